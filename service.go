package vetnet

// Service is a key of the service lines a station offers (DOMAIN.md).
type Service string

const (
	ServiceEmployment       Service = "employment"
	ServiceEntrepreneurship Service = "entrepreneurship"
	ServiceBenefits         Service = "benefits"
	ServiceLegalAid         Service = "legal_aid"
	ServiceHardship         Service = "hardship"
	ServiceHonours          Service = "honours"
	ServiceRecords          Service = "records"
	ServicePostServices     Service = "post_services"
	ServiceConsultation     Service = "consultation"
	ServiceTraining         Service = "training"
)

// Services lists every service in menu order.
var Services = []Service{
	ServiceEmployment, ServiceEntrepreneurship, ServiceBenefits, ServiceLegalAid,
	ServiceHardship, ServiceHonours, ServiceRecords, ServicePostServices,
	ServiceConsultation, ServiceTraining,
}

// ServiceInfo describes a service for menus, tickets and reports.
type ServiceInfo struct {
	Key         Service
	ZH          string   // short name, Simplified Chinese
	EN          string   // short name, English
	DetailZH    string   // what it covers, Chinese
	DetailEN    string   // what it covers, English
	QueuePrefix byte     // letter that starts its queue numbers, e.g. 'B' in B012
	Options     []Option // sub-choices offered after the service, e.g. benefits: enquiry, application, certificate
}

// Option is a sub-choice of a service: what exactly the visitor came for.
type Option struct {
	Key string // e.g. "application"
	ZH  string
	EN  string
}

var serviceOptions = map[Service][]Option{
	ServiceEmployment: {{"jobs", "岗位推荐", "Job openings"}, {"training", "技能培训", "Skills training"}, {"fair", "招聘会", "Job fairs"}},
	ServiceBenefits:   {{"enquiry", "待遇查询", "Enquiry"}, {"application", "待遇申请", "Application"}, {"certificate", "开具证明", "Certificate"}},
	ServiceLegalAid:   {{"advice", "法律咨询", "Legal advice"}, {"aid", "申请法律援助", "Apply for legal aid"}},
	ServiceHardship:   {{"enquiry", "帮扶政策咨询", "Enquiry"}, {"application", "申请帮扶", "Apply for help"}},
	ServiceHonours:    {{"plaque", "光荣牌", "Honour plaque"}, {"commendation", "喜报", "Commendation letter"}},
	ServiceRecords:    {{"contact", "地址电话", "Address or phone"}, {"situation", "个人情况", "Personal situation"}},
}

func init() {
	for k, opts := range serviceOptions {
		info := serviceInfo[k]
		info.Options = opts
		serviceInfo[k] = info
	}
}

var serviceInfo = map[Service]ServiceInfo{
	ServiceEmployment:       {ServiceEmployment, "就业服务", "Jobs", "就业超市、老兵专岗、技能培训", "jobs, job fairs, skills training", 'A', nil},
	ServiceEntrepreneurship: {ServiceEntrepreneurship, "创业扶持", "Start-up support", "军创学堂、项目路演", "founders' classes, pitch events", 'C', nil},
	ServiceBenefits:         {ServiceBenefits, "优抚待遇", "Pensions & allowances", "抚恤补助金、优待金", "enquiry and application", 'B', nil},
	ServiceLegalAid:         {ServiceLegalAid, "法律援助", "Legal aid", "法律咨询与援助", "legal advice and aid", 'L', nil},
	ServiceHardship:         {ServiceHardship, "帮扶援助", "Hardship help", "困难退役军人帮扶", "help for veterans in hardship", 'H', nil},
	ServiceHonours:          {ServiceHonours, "光荣牌、喜报", "Honours", "光荣牌、喜报", "honour plaques, commendation letters", 'G', nil},
	ServiceRecords:          {ServiceRecords, "信息采集", "Update records", "地址、电话、个人情况", "address, phone, situation", 'R', nil},
	ServicePostServices:     {ServicePostServices, "驿站服务", "Post services", "休息、饮水、充电、问路", "rest, water, charging, directions", 'P', nil},
	ServiceConsultation:     {ServiceConsultation, "政策咨询", "Policy questions", "政策咨询", "general questions about policy", 'Q', nil},
	ServiceTraining:         {ServiceTraining, "培训签到", "Training sign-in", "参加培训或会议签到", "attending a training or meeting", 'T', nil},
}

// Valid reports whether s is a known service key.
func (s Service) Valid() bool { _, ok := serviceInfo[s]; return ok }

// Info returns the description of s; ok is false for an unknown key.
func (s Service) Info() (ServiceInfo, bool) { i, ok := serviceInfo[s]; return i, ok }

// Label returns the service's short name in lang ("zh" or "en").
func (s Service) Label(lang string) string {
	i, ok := serviceInfo[s]
	if !ok {
		return string(s)
	}
	if lang == "zh" {
		return i.ZH
	}
	return i.EN
}

// ValidDetail reports whether detail is a sub-choice of s; the empty detail
// is always valid.
func (s Service) ValidDetail(detail string) bool {
	if detail == "" {
		return true
	}
	for _, o := range serviceInfo[s].Options {
		if o.Key == detail {
			return true
		}
	}
	return false
}

// ParseService returns the service with key k or an EINVALID error.
func ParseService(k string) (Service, error) {
	s := Service(k)
	if !s.Valid() {
		return "", Errorz(EINVALID, "未知的服务项目", "Unknown service.")
	}
	return s, nil
}

// DefaultServices returns what a station of level l offers when its
// configuration lists nothing: everything but post services at stations,
// and rest-and-service plus the common desk services at veteran posts.
func DefaultServices(l Level) []Service {
	if l == LevelPost {
		return []Service{ServicePostServices, ServiceConsultation, ServiceEmployment, ServiceBenefits}
	}
	out := make([]Service, 0, len(Services))
	for _, s := range Services {
		if s != ServicePostServices {
			out = append(out, s)
		}
	}
	return out
}
