package ui

import (
	"fmt"
	"time"
)

// The kiosk's words, in one place: every text on the screens comes from
// here (or from the agent, already in both languages). Each entry is
// {Chinese, English}; the kiosk shows both, the primary language large and
// the other smaller (see Config.Lang).
var texts = map[string][2]string{
	"station":         {"退役军人服务站", "Veterans Service Station"},
	"tapCard":         {"请刷身份证", "Tap your ID card"},
	"tapHint":         {"请将身份证平放在读卡器上", "Lay your ID card flat on the reader"},
	"hello":           {"您好，%s", "Hello, %s"},
	"welcome":         {"欢迎光临", "Welcome"},
	"welcomeBack":     {"欢迎再次光临", "Welcome back"},
	"lastVisit":       {"上次来访：%s", "Last visit: %s"},
	"menuSoon":        {"稍后将自动进入服务选择", "The list of services opens in a moment"},
	"continue":        {"继续", "Continue"},
	"cancel":          {"取消", "Cancel"},
	"choose":          {"%s，请选择办理事项", "%s, please choose a service"},
	"chooseHint":      {"一分钟无操作将自动返回首页", "Returns to the start after a minute without a touch"},
	"submitting":      {"正在登记，请稍候…", "Checking you in, please wait…"},
	"confirmed":       {"登记成功", "You are checked in"},
	"yourNumber":      {"您的排队号", "Your number"},
	"waiting":         {"前面还有 %d 人等候", "%d people ahead of you"},
	"waitingOne":      {"前面还有 1 人等候", "1 person ahead of you"},
	"waitingNone":     {"前面没有人等候", "No one is ahead of you"},
	"waitCall":        {"请在休息区等候叫号", "Please take a seat until you are called"},
	"done":            {"完成", "Done"},
	"backIn":          {"%d 秒后自动返回首页", "Back to the start in %d s"},
	"failed":          {"登记未成功", "Check-in did not go through"},
	"retry":           {"重试", "Try again"},
	"tapAgain":        {"重新刷卡", "Tap your card again"},
	"notice":          {"请注意", "Please note"},
	"ok":              {"确定", "OK"},
	"outOfService":    {"暂停服务，请联系工作人员", "Out of service, please ask staff"},
	"reconnecting":    {"正在重新连接站点服务…", "Reconnecting to the station…"},
	"starting":        {"正在启动，请稍候…", "Starting, please wait…"},
	"online":          {"已联网", "online"},
	"offline":         {"未联网，登记保存在本机", "offline, check-ins kept here"},
	"agentDown":       {"本机服务未连接", "station agent not connected"},
	"backlog":         {"待上传 %d 条", "%d to upload"},
	"simTap":          {"模拟刷卡（演示）", "Simulate card (demo)"},
	"serviceNumber":   {"%s号", "No. %s"},
	"staffButton":     {"工作人员", "Staff"},
	"staffLogin":      {"工作人员登录", "Staff sign-in"},
	"staffLoginHint":  {"请选择您的姓名并输入PIN码，或直接刷工作证", "Choose your name and type your PIN, or tap your badge"},
	"staffPickName":   {"选择姓名", "Your name"},
	"staffPIN":        {"PIN码", "PIN"},
	"signIn":          {"登录", "Sign in"},
	"signingIn":       {"正在验证…", "Checking…"},
	"staffSignedIn":   {"工作人员：%s（%s）", "Staff: %s (%s)"},
	"staffMenuHint":   {"可为来访者输入身份证号码登记；来访者也可直接刷身份证", "Type a visitor's ID number for them; visitors can still tap their card"},
	"manualButton":    {"代为登记（输入身份证号码）", "Check a visitor in (type the ID number)"},
	"signOut":         {"退出登录", "Sign out"},
	"manualTitle":     {"请输入来访者的身份证号码", "Type the visitor's ID number"},
	"manualHint":      {"共18位，最后一位可能是X；号码只在本屏显示", "18 characters, the last may be X; the number shows on this screen only"},
	"next":            {"下一步", "Next"},
	"keyDelete":       {"删除", "Delete"},
	"keyClear":        {"清空", "Clear"},
	"typedBy":         {"由工作人员代为登记", "Checked in by staff"},
	"storageFull":     {"本机存储空间将满，暂停登记", "Storage nearly full: check-ins paused"},
	"storageFullHint": {"请联系工作人员。已保存的记录不会丢失。", "Please ask staff. Nothing saved is lost."},
	"syncTitle":       {"本站同步状态", "Station sync"},
	"syncOnline":      {"已联网：登记实时上传", "Online: check-ins upload at once"},
	"syncOffline":     {"暂时离线：登记照常，联网后自动上传", "Offline: check-ins go on, upload later"},
	"syncBacklog":     {"待上传 %d 条", "%d waiting to upload"},
	"syncNone":        {"没有待上传的记录", "Nothing waiting to upload"},
	"syncOldest":      {"最早一条：%s前", "Oldest: %s ago"},
	"syncReaders":     {"读卡设备：%s", "Readers: %s"},
	"readerOK":        {"正常", "ok"},
	"readerFault":     {"故障", "fault"},
	"readerAbsent":    {"未连接", "not connected"},
	"syncStorageLow":  {"存储空间将满：暂停登记", "Storage nearly full: check-ins paused"},

	"chooseDetail":    {"%s：请选择具体事项", "%s: what exactly do you need?"},
	"back":            {"返回", "Back"},
	"expectedWait":    {"预计等候约 %d 分钟", "Expected wait: about %d min"},
	"expectedSoon":    {"预计很快就能办理", "You should be called soon"},
	"expectedUnknown": {"预计等候时间暂无（今日数据不足）", "Expected wait not known yet today"},
	"printed":         {"排队小票已打印，请取走", "Your ticket is printed: please take it"},
	"rateTitle":       {"办完事后，请为本次服务评价", "When you are done, please rate our service"},
	"rateDone":        {"不评价，完成", "Finish without rating"},
	"reasonTitle":     {"很抱歉让您不满意", "We are sorry we let you down"},
	"reasonHint":      {"请选择原因（可不选）；我们会在15个工作日内回访整改", "Tick what went wrong (optional); we follow up within 15 working days"},
	"sendRating":      {"提交评价", "Send rating"},
	"sendingRating":   {"正在提交评价，请稍候…", "Sending your rating, please wait…"},
	"thanks":          {"感谢您的评价", "Thank you for your rating"},
	"thanksHint":      {"您的意见会帮助我们改进服务", "Your view helps us serve better"},
	"ticked":          {"已选", "ticked"},

	"deskVisitors":  {"今日来访", "Today's visitors"},
	"deskQueue":     {"排队叫号", "Queue and calls"},
	"dutyOn":        {"签到上岗", "Sign on duty"},
	"dutyOff":       {"签退下岗", "Sign off duty"},
	"onDutyNow":     {"您在岗，%s起", "You are on duty since %s"},
	"offDutyNow":    {"您未在岗", "You are not on duty"},
	"dutyCount":     {"本站在岗 %d 人", "%d on duty at the station"},
	"exitKiosk":     {"退出自助终端", "Leave the kiosk"},
	"search":        {"搜索", "Search"},
	"searchAll":     {"全部", "All"},
	"searchHint":    {"输入姓名搜索", "Type a name to search"},
	"noVisitors":    {"没有符合的来访记录", "No visitors found"},
	"transfer":      {"转办", "Transfer"},
	"print":         {"补打小票", "Print ticket"},
	"callNext":      {"叫下一位", "Call next"},
	"served":        {"办结", "Served"},
	"noShow":        {"未到", "Not present"},
	"queueWaiting":  {"等候 %d 人", "%d waiting"},
	"queueServed":   {"今日已办 %d", "%d served today"},
	"transferTitle": {"将 %s 转至：", "Move %s to:"},
	"visitorsCount": {"共 %d 条", "%d found"},
	"loading":       {"正在读取…", "Loading…"},

	"state:waiting":     {"等候中", "waiting"},
	"state:called":      {"办理中", "being served"},
	"state:served":      {"已办结", "served"},
	"state:no_show":     {"未到", "not present"},
	"state:transferred": {"已转办", "transferred"},

	"hallTitle":      {"正在办理", "Now serving"},
	"hallWaiting":    {"等候 %d 人", "%d waiting"},
	"hallNone":       {"暂无叫号", "No one called yet"},
	"hallPleaseGo":   {"请听到叫号后前往办理", "Please go to the desk when your number is called"},
	"hallNotServing": {"暂停服务", "Not serving"},
	"hallLatest":     {"最近叫号", "Latest calls"},
	"hallNewest":     {"（最新）", "(newest)"},
}

var weekdaysZH = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// lang picks the order of the two languages.
type lang struct{ en bool }

func newLang(code string) lang { return lang{en: code == "en"} }

// tr returns the primary and secondary text of key, formatted with args.
func (l lang) tr(key string, args ...any) (primary, secondary string) {
	t, ok := texts[key]
	if !ok {
		return key, key
	}
	zh, en := t[0], t[1]
	if len(args) > 0 {
		zh, en = fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...)
	}
	if l.en {
		return en, zh
	}
	return zh, en
}

// pair orders a Chinese and an English text by the primary language.
func (l lang) pair(zh, en string) (primary, secondary string) {
	if l.en {
		return en, zh
	}
	return zh, en
}

// both is a one-line "中文 / English" text in the primary language's order.
func (l lang) both(key string, args ...any) string {
	p, s := l.tr(key, args...)
	return p + " / " + s
}

func dateZH(t time.Time) string { return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day()) }
func dateEN(t time.Time) string { return t.Format("2 January 2006") }

// date formats a day in both languages.
func (l lang) date(t time.Time) (primary, secondary string) {
	return l.pair(dateZH(t), dateEN(t))
}

// today is the header's date line.
func (l lang) today(t time.Time) string {
	if l.en {
		return t.Format("Mon 2 Jan")
	}
	return fmt.Sprintf("%d月%d日 %s", t.Month(), t.Day(), weekdaysZH[t.Weekday()])
}
