package hub

import (
	"os"

	"github.com/BurntSushi/toml"

	"github.com/vetnet/vetnet"
)

// Rules are the alert rules. A zero threshold disables its rule. The
// defaults are DefaultRules; a TOML file (firmware-config/alerts/rules.toml
// is the shipped one) overrides them with LoadRules.
type Rules struct {
	// OfflineMinutes: a station offline or stale this long opens an
	// alert. Default 30.
	OfflineMinutes int `toml:"offline_minutes"`
	// BacklogDepth: more check-ins than this waiting in a station's
	// outbox opens an alert. Default 100.
	BacklogDepth int `toml:"backlog_depth"`
	// BacklogAgeMinutes: the oldest waiting check-in older than this opens
	// an alert. Default 60.
	BacklogAgeMinutes int `toml:"backlog_age_minutes"`
	// ReaderFault: a reader or printer reporting "fault" opens an alert.
	// Default true.
	ReaderFault bool `toml:"reader_fault"`
	// DiskLow: a station whose disk is nearly full opens an alert.
	// Default true.
	DiskLow bool `toml:"disk_low"`
	// BadRating: a rating of 1 or 2 opens a follow-up task due
	// FollowUpWorkingDays working days later. Default true, 15.
	BadRating           bool `toml:"bad_rating"`
	FollowUpWorkingDays int  `toml:"follow_up_working_days"`
	// Holidays are public holidays (days off on weekdays) and Workdays
	// make-up working days (weekends that work), "2006-01-02". The
	// defaults are China's 2026 calendar (DefaultHolidays2026).
	Holidays []string `toml:"holidays"`
	Workdays []string `toml:"workdays"`
	// Webhook is a URL that receives every alert event as a JSON POST
	// (the MQTT payload). Empty: none.
	Webhook string `toml:"webhook"`
}

// China's public holidays of 2026 and the weekend days that work instead,
// as published by the State Council's General Office (国务院办公厅关于2026年
// 部分节假日安排的通知). Check them against the notice of each year and
// ship the next year's in the rules file.
var (
	DefaultHolidays2026 = []string{
		"2026-01-01", "2026-01-02", "2026-01-03", // 元旦
		"2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23", // 春节
		"2026-04-04", "2026-04-05", "2026-04-06", // 清明节
		"2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05", // 劳动节
		"2026-06-19", "2026-06-20", "2026-06-21", // 端午节
		"2026-09-25", "2026-09-26", "2026-09-27", // 中秋节
		"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07", // 国庆节
	}
	DefaultWorkdays2026 = []string{"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
)

// DefaultRules returns the rules the hub runs with when no file is given.
func DefaultRules() Rules {
	return Rules{
		OfflineMinutes: 30, BacklogDepth: 100, BacklogAgeMinutes: 60,
		ReaderFault: true, DiskLow: true, BadRating: true, FollowUpWorkingDays: 15,
		Holidays: append([]string(nil), DefaultHolidays2026...),
		Workdays: append([]string(nil), DefaultWorkdays2026...),
	}
}

// LoadRules reads a rules file over the defaults: keys absent from the
// file keep their default. Errors: EINVALID (unreadable, unknown keys,
// bad dates or negative thresholds).
func LoadRules(path string) (Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return DefaultRules(), vetnet.Wrap(vetnet.EINVALID, err, "无法读取告警规则文件", "Cannot read the alert rules file "+path+".")
	}
	return ParseRules(string(b))
}

// ParseRules reads rules text over the defaults, as LoadRules does.
// Errors: EINVALID.
func ParseRules(text string) (Rules, error) {
	r := DefaultRules()
	md, err := toml.Decode(text, &r)
	if err != nil {
		return r, vetnet.Wrap(vetnet.EINVALID, err, "告警规则文件格式错误", "The alert rules file is not valid TOML: "+err.Error())
	}
	if und := md.Undecoded(); len(und) > 0 {
		return r, vetnet.Errorz(vetnet.EINVALID, "告警规则文件有未知的项: "+und[0].String(), "Unknown key in the alert rules file: "+und[0].String())
	}
	return r, r.Validate()
}

// Validate checks thresholds and dates. Errors: EINVALID.
func (r Rules) Validate() error {
	if r.OfflineMinutes < 0 || r.BacklogDepth < 0 || r.BacklogAgeMinutes < 0 || r.FollowUpWorkingDays < 0 {
		return vetnet.Errorz(vetnet.EINVALID, "告警阈值不能为负数", "Alert thresholds cannot be negative.")
	}
	if r.BadRating && r.FollowUpWorkingDays == 0 {
		return vetnet.Errorz(vetnet.EINVALID, "差评回访期限必须大于 0", "follow_up_working_days must be above 0.")
	}
	_, err := NewCalendar(r.Holidays, r.Workdays)
	return err
}
