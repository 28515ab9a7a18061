package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/wire"
)

// Alert topics. Every alert event (opened, acknowledged, resolved) goes to
// AlertsTopic, QoS 1, not retained; each alert not yet resolved is also
// retained on AlertsTopic/active/{id} (cleared when it is resolved), so a
// system that subscribes late still gets the current alerts.
var (
	AlertsTopic       = wire.Root + "/alerts"
	AlertsActiveTopic = wire.Root + "/alerts/active/"
)

// Alert event names.
const (
	AlertOpened       = "opened"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// AlertMessage is the payload of the alert topics and of the webhook,
// version 1 (docs/protocol.md; golden file testdata/alert.v1.json).
type AlertMessage struct {
	V     int     `json:"v"`
	Event string  `json:"event"` // opened | acknowledged | resolved
	Alert AlertV1 `json:"alert"`
}

// AlertV1 is an alert on the wire. It holds no personal data.
type AlertV1 struct {
	ID              int64      `json:"id"`
	Rule            string     `json:"rule"` // offline | backlog | reader_fault | disk_low | bad_rating
	Station         string     `json:"station"`
	StationName     string     `json:"station_name"`
	Subject         string     `json:"subject,omitempty"` // a reader's name, a rating's ID
	State           string     `json:"state"`             // open | acknowledged | resolved
	MessageZH       string     `json:"message_zh"`
	MessageEN       string     `json:"message_en"`
	OpenedAt        time.Time  `json:"opened_at"`
	Due             *time.Time `json:"due,omitempty"`
	ClearedAt       *time.Time `json:"cleared_at,omitempty"`
	AckAt           *time.Time `json:"ack_at,omitempty"`
	AckBy           string     `json:"ack_by,omitempty"`
	AckComment      string     `json:"ack_comment,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy      string     `json:"resolved_by,omitempty"`
	ResolvedComment string     `json:"resolved_comment,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// alertV1 converts an alert for the wire.
func alertV1(a cloud.Alert, st vetnet.Station) AlertV1 {
	return AlertV1{ID: a.ID, Rule: string(a.Rule), Station: a.Station, StationName: st.Name, Subject: a.Subject,
		State: string(a.State), MessageZH: a.MessageZH, MessageEN: a.MessageEN, OpenedAt: a.OpenedAt.UTC(),
		Due: optTime(a.Due), ClearedAt: optTime(a.ClearedAt), AckAt: optTime(a.AckAt), AckBy: a.AckBy,
		AckComment: a.AckComment, ResolvedAt: optTime(a.ResolvedAt), ResolvedBy: a.ResolvedBy, ResolvedComment: a.ResolvedComment}
}

// SystemUser resolves alerts whose condition cleared.
const SystemUser = "system"

// alerting evaluates the rules and keeps the alerts not yet resolved in
// memory (the store has them all).
type alerting struct {
	h     *Hub
	rules Rules
	cal   Calendar

	mu     sync.Mutex
	active map[string]cloud.Alert // by key
	// byStation indexes active by station, so that a station's message
	// looks at its own alerts, not at every open alert.
	byStation map[string]map[string]bool

	hooks chan []byte // webhook deliveries; nil without a webhook
}

func newAlerting(h *Hub, rules Rules, active []cloud.Alert) (*alerting, error) {
	cal, err := NewCalendar(rules.Holidays, rules.Workdays)
	if err != nil {
		return nil, err
	}
	a := &alerting{h: h, rules: rules, cal: cal, active: map[string]cloud.Alert{}, byStation: map[string]map[string]bool{}}
	for _, x := range active {
		a.put(x)
	}
	if rules.Webhook != "" {
		a.hooks = make(chan []byte, 1024)
	}
	return a, nil
}

// reload replaces the alerts kept in memory with those the store has
// open (a replica that became the leader).
func (a *alerting) reload(active []cloud.Alert) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.active, a.byStation = map[string]cloud.Alert{}, map[string]map[string]bool{}
	for _, x := range active {
		a.put(x)
	}
}

// put and drop keep active and byStation together; a.mu is held.
func (a *alerting) put(x cloud.Alert) {
	a.active[x.Key] = x
	if a.byStation[x.Station] == nil {
		a.byStation[x.Station] = map[string]bool{}
	}
	a.byStation[x.Station][x.Key] = true
}

func (a *alerting) drop(x cloud.Alert) {
	delete(a.active, x.Key)
	if m := a.byStation[x.Station]; m != nil {
		delete(m, x.Key)
		if len(m) == 0 {
			delete(a.byStation, x.Station)
		}
	}
}

// condition is an alert a station's state calls for.
type condition struct {
	rule    cloud.AlertRule
	subject string
	zh, en  string
}

func (c condition) key(station string) string {
	k := string(c.rule) + "/" + station
	if c.subject != "" {
		k += "/" + c.subject
	}
	return k
}

// conditions returns the alerts p calls for at now, and the rules it can
// judge (a station offline says nothing of its readers).
func (a *alerting) conditions(p cloud.Presence, now time.Time) (want []condition, judged map[cloud.AlertRule]bool) {
	r := a.rules
	judged = map[cloud.AlertRule]bool{cloud.RuleOffline: true}
	down := p.State == cloud.StateOffline || p.State == cloud.StateStale
	if r.OfflineMinutes > 0 && down && !p.Since.IsZero() && now.Sub(p.Since) >= time.Duration(r.OfflineMinutes)*time.Minute {
		since := p.Since.In(a.h.cfg.Location).Format("01-02 15:04")
		want = append(want, condition{rule: cloud.RuleOffline,
			zh: fmt.Sprintf("%s超过 %d 分钟(自 %s)", p.State.Label("zh"), r.OfflineMinutes, since),
			en: fmt.Sprintf("%s for more than %d minutes (since %s)", p.State.Label("en"), r.OfflineMinutes, since)})
	}
	if p.State != cloud.StateOnline || p.LastHeartbeat.IsZero() {
		return want, judged
	}
	judged[cloud.RuleBacklog], judged[cloud.RuleReaderFault], judged[cloud.RuleDiskLow] = true, true, true
	o := p.Outbox
	deep := r.BacklogDepth > 0 && o.Depth > r.BacklogDepth
	old := r.BacklogAgeMinutes > 0 && o.Depth > 0 && !o.OldestAt.IsZero() && now.Sub(o.OldestAt) > time.Duration(r.BacklogAgeMinutes)*time.Minute
	if deep || old {
		age := 0
		if !o.OldestAt.IsZero() {
			age = int(now.Sub(o.OldestAt).Minutes())
		}
		want = append(want, condition{rule: cloud.RuleBacklog,
			zh: fmt.Sprintf("待上传 %d 条，最早已等待 %d 分钟", o.Depth, age),
			en: fmt.Sprintf("%d check-ins waiting, the oldest for %d minutes", o.Depth, age)})
	}
	if r.ReaderFault {
		for _, rd := range p.Readers {
			if rd.State == "fault" {
				zh, en := "读卡器", "Reader"
				if rd.Kind == "printer" {
					zh, en = "打印机", "Printer"
				}
				detail := ""
				if rd.Detail != "" {
					detail = ": " + rd.Detail
				}
				want = append(want, condition{rule: cloud.RuleReaderFault, subject: rd.Name,
					zh: fmt.Sprintf("%s %s 故障%s", zh, rd.Name, detail), en: fmt.Sprintf("%s %s fault%s", en, rd.Name, detail)})
			}
		}
	}
	if r.DiskLow && p.Disk.Low {
		want = append(want, condition{rule: cloud.RuleDiskLow,
			zh: "存储空间将满，站点暂停登记", en: "Disk nearly full: the station refuses check-ins"})
	}
	return want, judged
}

// evaluate opens the alerts p calls for and resolves those whose
// condition cleared.
func (a *alerting) evaluate(p cloud.Presence, now time.Time) {
	want, judged := a.conditions(p, now)
	keys := map[string]bool{}
	for _, c := range want {
		k := c.key(p.Station)
		keys[k] = true
		a.mu.Lock()
		_, ok := a.active[k]
		a.mu.Unlock()
		if ok {
			continue
		}
		a.open(cloud.Alert{Rule: c.rule, Key: k, Station: p.Station, Subject: c.subject, State: cloud.AlertOpen,
			MessageZH: c.zh, MessageEN: c.en, OpenedAt: now})
	}
	a.mu.Lock()
	var cleared []cloud.Alert
	for k := range a.byStation[p.Station] {
		if x := a.active[k]; judged[x.Rule] && !keys[k] {
			cleared = append(cleared, x)
		}
	}
	a.mu.Unlock()
	for _, x := range cleared {
		x.ClearedAt = now
		a.resolve(x, SystemUser, "条件已消除 · condition cleared", now)
	}
}

// badRating opens the follow-up task of a bad rating.
func (a *alerting) badRating(f vetnet.Feedback, now time.Time) {
	if !a.rules.BadRating || !f.Rating.Bad() {
		return
	}
	given := f.At
	if given.After(f.ReceivedAt) || given.IsZero() {
		given = f.ReceivedAt // a station clock ahead does not buy time
	}
	var zh, en []string
	for _, r := range f.Reasons {
		zh, en = append(zh, r.Label("zh")), append(en, r.Label("en"))
	}
	msgZH := fmt.Sprintf("评价 %d 分(%s)", int(f.Rating), f.Rating.Label("zh"))
	msgEN := fmt.Sprintf("Rated %d (%s)", int(f.Rating), f.Rating.Label("en"))
	if len(zh) > 0 {
		msgZH += ":" + strings.Join(zh, "、")
		msgEN += ": " + strings.Join(en, ", ")
	}
	info, _ := f.Service.Info()
	msgZH += ";服务:" + info.ZH + ";需在 " + strconv.Itoa(a.rules.FollowUpWorkingDays) + " 个工作日内回访"
	msgEN += "; service: " + info.EN + "; follow up within " + strconv.Itoa(a.rules.FollowUpWorkingDays) + " working days"
	a.open(cloud.Alert{Rule: cloud.RuleBadRating, Key: "bad_rating/" + f.ID, Station: f.StationID, Subject: f.ID,
		State: cloud.AlertOpen, MessageZH: msgZH, MessageEN: msgEN, OpenedAt: now,
		Due: a.cal.AddWorkingDays(given, a.rules.FollowUpWorkingDays, a.h.cfg.Location)})
}

func (a *alerting) open(x cloud.Alert) {
	ctx, cancel := context.WithTimeout(a.h.ctx, 10*time.Second)
	defer cancel()
	stored, isNew, err := a.h.store.OpenAlert(ctx, x)
	if err != nil {
		a.h.c.storeErrors.Inc("open_alert")
		a.h.cfg.Logf("hub: open alert %s: %v", x.Key, err)
		return
	}
	a.mu.Lock()
	a.put(stored)
	a.mu.Unlock()
	if isNew {
		a.h.c.alerts.Inc(string(stored.Rule), AlertOpened)
		a.publish(AlertOpened, stored)
	}
}

func (a *alerting) resolve(x cloud.Alert, by, comment string, now time.Time) (cloud.Alert, error) {
	x.State, x.ResolvedAt, x.ResolvedBy, x.ResolvedComment = cloud.AlertResolved, now, by, comment
	ctx, cancel := context.WithTimeout(a.h.ctx, 10*time.Second)
	defer cancel()
	if err := a.h.store.UpdateAlert(ctx, x); err != nil {
		a.h.c.storeErrors.Inc("update_alert")
		a.h.cfg.Logf("hub: resolve alert %d: %v", x.ID, err)
		return x, err
	}
	a.mu.Lock()
	if cur, ok := a.active[x.Key]; ok && cur.ID == x.ID {
		a.drop(cur)
	}
	a.mu.Unlock()
	a.h.c.alerts.Inc(string(x.Rule), AlertResolved)
	a.publish(AlertResolved, x)
	return x, nil
}

// publish sends an alert event to live events, MQTT and the webhook.
func (a *alerting) publish(event string, x cloud.Alert) {
	a.h.events.publish(cloud.Event{Kind: cloud.EventAlert, Alert: x})
	msg := AlertMessage{V: 1, Event: event, Alert: alertV1(x, a.h.stations[x.Station])}
	b, err := json.Marshal(msg)
	if err != nil {
		a.h.cfg.Logf("hub: encode alert %d: %v", x.ID, err)
		return
	}
	if err := a.h.publish(AlertsTopic, b, false, 1); err != nil {
		a.h.c.publishFailures.Inc("alert")
	}
	retained := b
	if x.State == cloud.AlertResolved {
		retained = nil // clears the retained message
	}
	if err := a.h.publish(AlertsActiveTopic+strconv.FormatInt(x.ID, 10), retained, true, 1); err != nil {
		a.h.c.publishFailures.Inc("alert")
	}
	if a.hooks != nil {
		select {
		case a.hooks <- b:
		default:
			a.h.c.webhook.Inc("dropped")
		}
	}
}

// webhookLoop posts alert events to the webhook, in order, retrying each
// a few times; a webhook down for long loses events (the alert list and
// the retained topics still have the state).
func (a *alerting) webhookLoop() {
	defer a.h.wg.Done()
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		select {
		case <-a.h.ctx.Done():
			return
		case b := <-a.hooks:
			for attempt := 0; ; attempt++ {
				req, _ := http.NewRequestWithContext(a.h.ctx, http.MethodPost, a.rules.Webhook, bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", "vetnet-hub")
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode < 300 {
						a.h.c.webhook.Inc("ok")
						break
					}
					err = fmt.Errorf("HTTP %d", resp.StatusCode)
				}
				if attempt == 4 || a.h.ctx.Err() != nil {
					a.h.c.webhook.Inc("failed")
					a.h.cfg.Logf("hub: alert webhook: %v", err)
					break
				}
				select {
				case <-a.h.ctx.Done():
					return
				case <-time.After(time.Duration(1<<attempt) * time.Second):
				}
			}
		}
	}
}

// AckAlert acknowledges an alert: someone took it. The comment is
// optional. Errors: ENOTFOUND, ECONFLICT (already acknowledged or
// resolved), the store's.
func (h *Hub) AckAlert(ctx context.Context, id int64, by, comment string) (cloud.Alert, error) {
	x, err := h.store.Alert(ctx, id)
	if err != nil {
		return x, err
	}
	if x.State != cloud.AlertOpen {
		return x, vetnet.Errorz(vetnet.ECONFLICT, "该告警已确认或已解决", "The alert was already acknowledged or resolved.")
	}
	x.State, x.AckAt, x.AckBy, x.AckComment = cloud.AlertAcknowledged, h.cfg.Now(), by, comment
	if err := h.store.UpdateAlert(ctx, x); err != nil {
		return x, err
	}
	h.alerts.mu.Lock()
	if cur, ok := h.alerts.active[x.Key]; ok && cur.ID == x.ID {
		h.alerts.put(x)
	}
	h.alerts.mu.Unlock()
	h.c.alerts.Inc(string(x.Rule), AlertAcknowledged)
	h.alerts.publish(AlertAcknowledged, x)
	return x, nil
}

// ResolveAlert closes an alert with a comment (required). A condition
// alert whose condition still holds opens again at the next evaluation.
// Errors: EINVALID (no comment), ENOTFOUND, ECONFLICT (already
// resolved), the store's.
func (h *Hub) ResolveAlert(ctx context.Context, id int64, by, comment string) (cloud.Alert, error) {
	if strings.TrimSpace(comment) == "" {
		return cloud.Alert{}, vetnet.Errorz(vetnet.EINVALID, "解决告警需要填写处理说明", "Resolving an alert needs a comment.")
	}
	x, err := h.store.Alert(ctx, id)
	if err != nil {
		return x, err
	}
	if x.State == cloud.AlertResolved {
		return x, vetnet.Errorz(vetnet.ECONFLICT, "该告警已解决", "The alert was already resolved.")
	}
	return h.alerts.resolve(x, by, comment, h.cfg.Now())
}

// Rules returns the alert rules the hub runs.
func (h *Hub) Rules() Rules { return h.alerts.rules }
