package wire_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	t0      = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	station = "cz-xb-sanjing"
	oldest  = t0.Add(-90 * time.Second)
)

func sampleCheckIns() []vetnet.CheckIn {
	return []vetnet.CheckIn{
		{ID: "01KB1Q0V00ABCDEFGHJKMNPQRS", StationID: station, Seq: 41, At: t0,
			Visitor: vetnet.Visitor{IDNumber: "11010519491231002X", Name: "张建国", DocType: vetnet.DocResident},
			Service: vetnet.ServiceBenefits, Detail: "application", Method: vetnet.MethodCard, QueueNo: "B007"},
		{ID: "01KB1Q1F00ABCDEFGHJKMNPQRS", StationID: station, Seq: 42, At: t0.Add(20 * time.Second),
			Visitor: vetnet.Visitor{IDNumber: "320411195801150016", DocType: vetnet.DocResident},
			Service: vetnet.ServiceEmployment, Method: vetnet.MethodManual, QueueNo: "A003", Staff: "xb-0107"},
	}
}

// messages are the golden messages: one file per message in testdata/.
var messages = []struct {
	file   string
	value  any
	encode func() ([]byte, error)
	decode func([]byte) (any, error)
}{
	{
		file:   "checkins.v1.json",
		value:  wire.NewCheckInBatch(station, "41-42", t0.Add(time.Minute), sampleCheckIns()),
		decode: func(b []byte) (any, error) { return wire.DecodeCheckInBatch(station, b) },
	},
	{
		file: "records.v1.json",
		value: func() wire.CheckInBatch {
			b := wire.NewCheckInBatch(station, "r3-4", t0.Add(2*time.Minute), nil)
			b.Records = []wire.RecordV1{
				wire.FeedbackToWire(vetnet.Feedback{ID: "01KB1Q2000ABCDEFGHJKMNPQRS", StationID: station, CheckInID: "01KB1Q0V00ABCDEFGHJKMNPQRS",
					Service: vetnet.ServiceBenefits, Rating: vetnet.RatingVerySatisfied, At: t0.Add(90 * time.Second)}),
				wire.FeedbackToWire(vetnet.Feedback{ID: "01KB1Q2100ABCDEFGHJKMNPQRS", StationID: station, CheckInID: "01KB1Q1F00ABCDEFGHJKMNPQRS",
					Service: vetnet.ServiceEmployment, Rating: vetnet.RatingDissatisfied, At: t0.Add(100 * time.Second),
					Reasons: []vetnet.Reason{vetnet.ReasonWaiting, vetnet.ReasonProcess}, Comment: "排队太久"}),
			}
			return b
		}(),
		decode: func(b []byte) (any, error) { return wire.DecodeCheckInBatch(station, b) },
	},
	{
		file: "records-visit.v1.json",
		value: func() wire.CheckInBatch {
			b := wire.NewCheckInBatch(station, "r5-8", t0.Add(3*time.Minute), nil)
			ev := func(id string, sec int, a vetnet.VisitAction) vetnet.VisitEvent {
				return vetnet.VisitEvent{ID: id, StationID: station, CheckInID: "01KB1Q0V00ABCDEFGHJKMNPQRS", Action: a,
					Service: vetnet.ServiceBenefits, QueueNo: "B007", Staff: "xb-0107", Counter: "2号窗口", At: t0.Add(time.Duration(sec) * time.Second)}
			}
			tr := ev("01KB1Q2500ABCDEFGHJKMNPQRS", 150, vetnet.VisitTransferred)
			tr.ToService, tr.ToQueueNo = vetnet.ServiceLegalAid, "L002"
			noShow := ev("01KB1Q2600ABCDEFGHJKMNPQRS", 170, vetnet.VisitNoShow)
			noShow.CheckInID, noShow.Service, noShow.QueueNo, noShow.Staff, noShow.Counter = "01KB1Q1F00ABCDEFGHJKMNPQRS", vetnet.ServiceEmployment, "A003", "", ""
			b.Records = []wire.RecordV1{
				wire.VisitToWire(ev("01KB1Q2200ABCDEFGHJKMNPQRS", 120, vetnet.VisitCalled)),
				wire.VisitToWire(ev("01KB1Q2300ABCDEFGHJKMNPQRS", 130, vetnet.VisitRecalled)),
				wire.VisitToWire(tr),
				wire.VisitToWire(noShow),
			}
			return b
		}(),
		decode: func(b []byte) (any, error) { return wire.DecodeCheckInBatch(station, b) },
	},
	{
		file: "records-duty.v1.json",
		value: func() wire.CheckInBatch {
			b := wire.NewCheckInBatch(station, "r9-10", t0.Add(4*time.Minute), nil)
			b.Records = []wire.RecordV1{
				wire.DutyToWire(vetnet.DutyEvent{ID: "01KB1Q2700ABCDEFGHJKMNPQRS", StationID: station, Staff: "xb-0107", On: true, At: t0.Add(-time.Hour)}),
				wire.DutyToWire(vetnet.DutyEvent{ID: "01KB1Q2800ABCDEFGHJKMNPQRS", StationID: station, Staff: "xb-0112", On: false, At: t0.Add(200 * time.Second)}),
			}
			return b
		}(),
		decode: func(b []byte) (any, error) { return wire.DecodeCheckInBatch(station, b) },
	},
	{
		file: "records-rollcall.v1.json",
		value: func() wire.CheckInBatch {
			b := wire.NewCheckInBatch(station, "r11-12", t0.Add(5*time.Minute), []vetnet.CheckIn{{ID: "01KB1Q3100ABCDEFGHJKMNPQRS",
				StationID: station, Seq: 43, At: t0.Add(4 * time.Minute), Visitor: vetnet.Visitor{IDNumber: "320411195801150016", Name: "张建国", DocType: vetnet.DocResident},
				Service: vetnet.ServiceTraining, Method: vetnet.MethodCard, QueueNo: "T001", Meeting: "01KB1P0000MTNGABCDEFGHJKMN"}})
			b.Records = []wire.RecordV1{
				wire.RollCallToWire(vetnet.RollCall{ID: "01KB1Q2900ABCDEFGHJKMNPQRS", StationID: station, MeetingID: "01KB1P0000MTNGABCDEFGHJKMN",
					Staff: "xb-0107", Role: vetnet.RoleHead, Method: vetnet.RollCallBadge, At: t0.Add(3 * time.Minute)}),
				wire.RollCallToWire(vetnet.RollCall{ID: "01KB1Q3000ABCDEFGHJKMNPQRS", StationID: station, MeetingID: "01KB1P0000MTNGABCDEFGHJKMN",
					Staff: "xb-0112", Role: vetnet.RoleOfficer, Method: vetnet.RollCallPIN, At: t0.Add(210 * time.Second)}),
			}
			return b
		}(),
		decode: func(b []byte) (any, error) { return wire.DecodeCheckInBatch(station, b) },
	},
	{
		file: "meetings.v1.json",
		value: wire.NewMeetings(station, []vetnet.Meeting{
			{ID: "01KB1P0000MTNGABCDEFGHJKMN", Title: "三季度就业政策培训", Kind: vetnet.MeetingTraining, Start: t0.Add(2 * time.Hour),
				End: t0.Add(3 * time.Hour), Room: "vetnet-01kb1p0000", Roles: []vetnet.StaffRole{vetnet.RoleHead, vetnet.RoleOfficer}, Veterans: true},
			{ID: "01KB1P1000MTNGABCDEFGHJKMN", Title: "督查督办例会", Kind: vetnet.MeetingSupervision, Start: t0.Add(26 * time.Hour),
				End: t0.Add(27 * time.Hour), Room: "vetnet-01kb1p1000", Roles: []vetnet.StaffRole{vetnet.RoleHead}, Cancelled: true},
		}, func(m vetnet.Meeting) string { return "https://meet.vetnet.lan/" + m.Room }, t0),
		decode: func(b []byte) (any, error) { return wire.DecodeMeetings(station, b) },
	},
	{
		file:   "ack.v1.json",
		value:  wire.Ack{V: 1, Station: station, Batch: "41-42", IDs: []string{"01KB1Q0V00ABCDEFGHJKMNPQRS", "01KB1Q1F00ABCDEFGHJKMNPQRS"}, At: t0.Add(61 * time.Second)},
		decode: func(b []byte) (any, error) { return wire.DecodeAck(station, b) },
	},
	{
		file: "ack-rejected.v1.json",
		value: wire.Ack{V: 1, Station: station, Batch: "43-44", IDs: []string{},
			Rejected: []wire.Rejection{{ID: "01KB1Q2F00ABCDEFGHJKMNPQRS", Seq: 44, Code: "invalid", Reason: "The check character of the ID number is wrong; please check it."}},
			At:       t0.Add(62 * time.Second)},
		decode: func(b []byte) (any, error) { return wire.DecodeAck(station, b) },
	},
	{
		file: "ack-error.v1.json",
		value: wire.Ack{V: 1, Station: station, IDs: []string{},
			Error: &wire.Problem{Reason: wire.ReasonJSON, Detail: "syntax error at byte 17"}, At: t0.Add(63 * time.Second)},
		decode: func(b []byte) (any, error) { return wire.DecodeAck(station, b) },
	},
	{
		file:   "status-online.v1.json",
		value:  wire.Status{V: 1, Station: station, State: wire.StateOnline, Reason: wire.StatusConnect, Since: t0, Agent: "0.1.0", HeartbeatS: 15},
		decode: func(b []byte) (any, error) { return wire.DecodeStatus(station, b) },
	},
	{
		file:   "status-will.v1.json",
		value:  wire.Status{V: 1, Station: station, State: wire.StateOffline, Reason: wire.StatusWill, Since: t0, Agent: "0.1.0", HeartbeatS: 15},
		decode: func(b []byte) (any, error) { return wire.DecodeStatus(station, b) },
	},
	{
		file: "heartbeat.v1.json",
		value: wire.Heartbeat{V: 1, Station: station, At: t0.Add(2 * time.Minute), Seq: 8, UptimeS: 120, IntervalS: 15,
			Outbox:  wire.OutboxV1{Depth: 2, OldestAt: &oldest, LastSeq: 42, Rejected: 0},
			Readers: []wire.ReaderV1{{Name: "idcard0", Kind: "simulated", State: wire.ReaderOK}},
			Storage: wire.StorageV1{FreeBytes: 12_884_901_888, FileBytes: 2_097_152},
			Agent:   "0.1.0", ConfigVersion: "c0123456789ab"},
		decode: func(b []byte) (any, error) { return wire.DecodeHeartbeat(station, b) },
	},
	{
		file: "config.v1.json",
		value: wire.NewConfig(vetnet.Station{ID: station, Name: "三井街道退役军人服务站", NameEN: "Sanjing Street Station",
			Level: vetnet.LevelTown, Parent: "cz-xb", Services: []vetnet.Service{"employment", "benefits", "consultation"}}, 15, t0),
		decode: func(b []byte) (any, error) { return wire.DecodeConfig(station, b) },
	},
	{
		file: "config-staff.v1.json",
		value: wire.NewConfig(vetnet.Station{ID: station, Name: "三井街道退役军人服务站", NameEN: "Sanjing Street Station",
			Level: vetnet.LevelTown, Parent: "cz-xb", Services: []vetnet.Service{"employment", "benefits", "consultation"},
			Staff: []vetnet.Staff{
				{ID: "xb-0107", Name: "王立新", Role: vetnet.RoleHead, BadgeUID: "04A22B1A5C8011",
					PINHash: "pbkdf2-sha256$100000$c2FsdHNhbHRzYWx0c2FsdA$bNcRF4PHJtMk4Pmt4WEeEU3bAKdXByCLxz7HzXo1sRg"},
				{ID: "xb-0112", Name: "陈红梅", Role: vetnet.RoleOfficer, BadgeUID: "DEADBEEF"},
			}}, 15, t0),
		decode: func(b []byte) (any, error) { return wire.DecodeConfig(station, b) },
	},
	{
		file: "config-signed.v1.json",
		value: wire.NewConfig(vetnet.Station{ID: station, Name: "三井街道退役军人服务站", NameEN: "Sanjing Street Station",
			Level: vetnet.LevelTown, Parent: "cz-xb", Services: []vetnet.Service{"employment", "benefits", "consultation"},
			Hours: vetnet.OpeningHours{Rules: []string{"mon-fri 08:30-12:00,13:30-17:30", "sat 09:00-12:00"}}}, 15, t0).Sign(goldenConfigKey),
		decode: func(b []byte) (any, error) { return wire.DecodeConfig(station, b) },
	},
}

// goldenConfigKey signs config-signed.v1.json (Ed25519 signatures are
// deterministic, so the golden file is stable).
var goldenConfigKey = ed25519.NewKeyFromSeed([]byte("vetnet golden configuration key!"))

// The signed golden configuration verifies after decoding (the payload is
// canonical); any change of content, or another key, fails.
func TestConfigSignature(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "config-signed.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := wire.DecodeConfig(station, b)
	if err != nil {
		t.Fatal(err)
	}
	pub := goldenConfigKey.Public().(ed25519.PublicKey)
	if err := c.Verify(pub); err != nil {
		t.Fatal(err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if err := c.Verify(other); wire.Reason(err) != wire.ReasonSignature {
		t.Fatalf("another key: %v", err)
	}
	tampered := c
	tampered.HeartbeatS = 5
	if err := tampered.Verify(pub); wire.Reason(err) != wire.ReasonSignature {
		t.Fatalf("tampered: %v", err)
	}
	unsigned := c
	unsigned.Sig = ""
	if err := unsigned.Verify(pub); wire.Reason(err) != wire.ReasonSignature {
		t.Fatalf("unsigned: %v", err)
	}
	if c.Version != wire.ConfigVersion(unsigned) {
		t.Fatal("the signature changes the version")
	}
	if len(c.Hours) != 2 {
		t.Fatalf("hours %v", c.Hours)
	}
}

func indent(t *testing.T, v any) []byte {
	t.Helper()
	var b []byte
	var err error
	if e, ok := v.(interface{ Encode() ([]byte, error) }); ok {
		b, err = e.Encode()
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestGolden(t *testing.T) {
	for _, m := range messages {
		t.Run(m.file, func(t *testing.T) {
			path := filepath.Join("testdata", m.file)
			got := indent(t, m.value)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./wire -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding differs from %s:\n%s", path, got)
			}
			dec, err := m.decode(want)
			if err != nil {
				t.Fatalf("decode golden: %v", err)
			}
			if !reflect.DeepEqual(dec, m.value) {
				t.Fatalf("decoded\n%#v\nwant\n%#v", dec, m.value)
			}
		})
	}
}

func TestTopics(t *testing.T) {
	if got := wire.Topic("cz-xb-01", wire.KindCheckIns); got != "vs/v1/st/cz-xb-01/checkins" {
		t.Fatal(got)
	}
	if got := wire.SharedFilter("hub", wire.KindCheckIns); got != "$share/hub/vs/v1/st/+/checkins" {
		t.Fatal(got)
	}
	st, k, err := wire.ParseTopic("vs/v1/st/cz-xb-01/heartbeat")
	if err != nil || st != "cz-xb-01" || k != wire.KindHeartbeat {
		t.Fatal(st, k, err)
	}
	for _, bad := range []string{"vs/v2/st/a1/checkins", "vs/v1/st/a1/checkins/x", "vs/v1/st/A1/checkins", "vs/v1/st/a1/selfie", "vs/v1/st/a1", "vs/v1/st//checkins"} {
		if _, _, err := wire.ParseTopic(bad); wire.Reason(err) != wire.ReasonTopic {
			t.Errorf("ParseTopic(%q) = %v", bad, err)
		}
	}
}

// mutate returns the golden file with a JSON edit applied.
func mutate(t *testing.T, file string, edit func(map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, _ := json.Marshal(m)
	return out
}

func first(m map[string]any) map[string]any {
	return m["checkins"].([]any)[0].(map[string]any)
}

func TestDecodeRejects(t *testing.T) {
	batch := func(b []byte) error { _, err := wire.DecodeCheckInBatch(station, b); return err }
	meetings := func(b []byte) error { _, err := wire.DecodeMeetings(station, b); return err }
	tests := []struct {
		name   string
		data   []byte
		decode func([]byte) error
		reason string
	}{
		{"not json", []byte("{not json"), batch, wire.ReasonJSON},
		{"array", []byte("[1,2]"), batch, wire.ReasonJSON},
		{"trailing data", append(mutate(t, "checkins.v1.json", func(map[string]any) {}), []byte(" {}")...), batch, wire.ReasonJSON},
		{"no version", mutate(t, "checkins.v1.json", func(m map[string]any) { delete(m, "v") }), batch, wire.ReasonVersion},
		{"version 2", mutate(t, "checkins.v1.json", func(m map[string]any) { m["v"] = 2 }), batch, wire.ReasonVersion},
		{"unknown field", mutate(t, "checkins.v1.json", func(m map[string]any) { m["priority"] = "high" }), batch, wire.ReasonUnknown},
		{"unknown nested field", mutate(t, "checkins.v1.json", func(m map[string]any) { first(m)["photo"] = "AAAA" }), batch, wire.ReasonUnknown},
		{"wrong type", mutate(t, "checkins.v1.json", func(m map[string]any) { first(m)["seq"] = "41" }), batch, wire.ReasonJSON},
		{"other station", mutate(t, "checkins.v1.json", func(m map[string]any) { m["station"] = "cz-xb-other" }), batch, wire.ReasonStation},
		{"no batch label", mutate(t, "checkins.v1.json", func(m map[string]any) { m["batch"] = "" }), batch, wire.ReasonField},
		{"empty batch", mutate(t, "checkins.v1.json", func(m map[string]any) { m["checkins"] = []any{} }), batch, wire.ReasonEmptyBatch},
		{"seq not ascending", mutate(t, "checkins.v1.json", func(m map[string]any) { first(m)["seq"] = 43 }), batch, wire.ReasonField},
		{"repeated id", mutate(t, "checkins.v1.json", func(m map[string]any) {
			cs := m["checkins"].([]any)
			cs[1].(map[string]any)["id"] = cs[0].(map[string]any)["id"]
		}), batch, wire.ReasonField},
		{"bad id", mutate(t, "checkins.v1.json", func(m map[string]any) { first(m)["id"] = "not-an-id" }), batch, wire.ReasonField},
		{"too large", []byte(`{"v":1,"pad":"` + strings.Repeat("x", wire.MaxCheckInsPayload) + `"}`), batch, wire.ReasonTooLarge},
		{"too many", mutate(t, "checkins.v1.json", func(m map[string]any) {
			var cs []any
			for i := 0; i <= wire.MaxBatch; i++ {
				c := map[string]any{"id": "01KB1Q0V00ABCDEFGHJKMNPQRS", "seq": i + 1}
				cs = append(cs, c)
			}
			m["checkins"] = cs
		}), batch, wire.ReasonBatchTooBig},
		{"record of unknown kind", mutate(t, "records.v1.json", func(m map[string]any) {
			m["records"].([]any)[0].(map[string]any)["kind"] = "selfie"
		}), batch, wire.ReasonField},
		{"feedback record without feedback", mutate(t, "records.v1.json", func(m map[string]any) {
			delete(m["records"].([]any)[0].(map[string]any), "feedback")
		}), batch, wire.ReasonField},
		{"record id repeats a check-in id", mutate(t, "checkins.v1.json", func(m map[string]any) {
			m["records"] = []any{map[string]any{"id": first(m)["id"], "kind": "feedback", "at": "2026-11-26T09:30:00Z",
				"feedback": map[string]any{"checkin_id": first(m)["id"], "service": "benefits", "rating": 5}}}
		}), batch, wire.ReasonField},
		{"visit record without visit", mutate(t, "records-visit.v1.json", func(m map[string]any) {
			delete(m["records"].([]any)[0].(map[string]any), "visit")
		}), batch, wire.ReasonField},
		{"visit record with a rating too", mutate(t, "records-visit.v1.json", func(m map[string]any) {
			m["records"].([]any)[0].(map[string]any)["feedback"] = map[string]any{"checkin_id": "01KB1Q0V00ABCDEFGHJKMNPQRS", "service": "benefits", "rating": 5}
		}), batch, wire.ReasonField},
		{"visit unknown field", mutate(t, "records-visit.v1.json", func(m map[string]any) {
			m["records"].([]any)[0].(map[string]any)["visit"].(map[string]any)["window"] = 2
		}), batch, wire.ReasonUnknown},
		{"visit wrong type", mutate(t, "records-visit.v1.json", func(m map[string]any) {
			m["records"].([]any)[0].(map[string]any)["visit"].(map[string]any)["queue_no"] = 7
		}), batch, wire.ReasonJSON},
		{"duty bad state", mutate(t, "records-duty.v1.json", func(m map[string]any) {
			m["records"].([]any)[0].(map[string]any)["duty"].(map[string]any)["state"] = "lunch"
		}), batch, wire.ReasonField},
		{"duty record without duty", mutate(t, "records-duty.v1.json", func(m map[string]any) {
			delete(m["records"].([]any)[1].(map[string]any), "duty")
		}), batch, wire.ReasonField},
		{"duty record with a visit", mutate(t, "records-duty.v1.json", func(m map[string]any) {
			m["records"].([]any)[1].(map[string]any)["visit"] = map[string]any{"checkin_id": "01KB1Q0V00ABCDEFGHJKMNPQRS"}
		}), batch, wire.ReasonField},
		{"no checkins field", mutate(t, "records.v1.json", func(m map[string]any) { delete(m, "checkins") }), batch, wire.ReasonField},
		{"status bad state", mutate(t, "status-online.v1.json", func(m map[string]any) { m["state"] = "sleepy" }),
			func(b []byte) error { _, err := wire.DecodeStatus(station, b); return err }, wire.ReasonField},
		{"status empty", []byte{}, func(b []byte) error { _, err := wire.DecodeStatus(station, b); return err }, wire.ReasonJSON},
		{"heartbeat negative depth", mutate(t, "heartbeat.v1.json", func(m map[string]any) { m["outbox"].(map[string]any)["depth"] = -1 }),
			func(b []byte) error { _, err := wire.DecodeHeartbeat(station, b); return err }, wire.ReasonField},
		{"heartbeat bad reader state", mutate(t, "heartbeat.v1.json", func(m map[string]any) {
			m["readers"].([]any)[0].(map[string]any)["state"] = "on fire"
		}), func(b []byte) error { _, err := wire.DecodeHeartbeat(station, b); return err }, wire.ReasonField},
		{"ack without ids", mutate(t, "ack.v1.json", func(m map[string]any) { delete(m, "ids") }),
			func(b []byte) error { _, err := wire.DecodeAck(station, b); return err }, wire.ReasonField},
		{"config tampered", mutate(t, "config.v1.json", func(m map[string]any) { m["services"] = []any{"employment"} }),
			func(b []byte) error { _, err := wire.DecodeConfig(station, b); return err }, wire.ReasonField},
		{"config unknown service", mutate(t, "config.v1.json", func(m map[string]any) { m["services"] = []any{"golf"} }),
			func(b []byte) error { _, err := wire.DecodeConfig(station, b); return err }, wire.ReasonField},
		{"config other station", mutate(t, "config.v1.json", func(m map[string]any) { m["station"] = "cz-xb-other" }),
			func(b []byte) error { _, err := wire.DecodeConfig(station, b); return err }, wire.ReasonStation},
		{"meetings tampered", mutate(t, "meetings.v1.json", func(m map[string]any) {
			m["meetings"].([]any)[0].(map[string]any)["title"] = "另一个会议"
		}), meetings, wire.ReasonField},
		{"meetings unknown kind", mutate(t, "meetings.v1.json", func(m map[string]any) {
			m["meetings"].([]any)[0].(map[string]any)["kind"] = "party"
		}), meetings, wire.ReasonField},
		{"meetings end before start", mutate(t, "meetings.v1.json", func(m map[string]any) {
			m["meetings"].([]any)[0].(map[string]any)["end"] = "2020-01-01T00:00:00Z"
		}), meetings, wire.ReasonField},
		{"meetings veterans at supervision", mutate(t, "meetings.v1.json", func(m map[string]any) {
			m["meetings"].([]any)[1].(map[string]any)["veterans"] = true
		}), meetings, wire.ReasonField},
		{"meetings missing list", mutate(t, "meetings.v1.json", func(m map[string]any) { delete(m, "meetings") }), meetings, wire.ReasonField},
		{"meetings unknown field", mutate(t, "meetings.v1.json", func(m map[string]any) { m["agenda"] = "x" }), meetings, wire.ReasonUnknown},
		{"meetings other station", mutate(t, "meetings.v1.json", func(m map[string]any) { m["station"] = "cz-xb-other" }), meetings, wire.ReasonStation},
		{"meetings version 2", mutate(t, "meetings.v1.json", func(m map[string]any) { m["v"] = 2 }), meetings, wire.ReasonVersion},
		{"rollcall bad method", mutate(t, "records-rollcall.v1.json", func(m map[string]any) {
			m["records"].([]any)[0].(map[string]any)["rollcall"].(map[string]any)["method"] = "wave"
		}), batch, wire.ReasonField},
		{"rollcall bad meeting", mutate(t, "records-rollcall.v1.json", func(m map[string]any) {
			m["records"].([]any)[0].(map[string]any)["rollcall"].(map[string]any)["meeting"] = "lunch"
		}), batch, wire.ReasonField},
		{"rollcall without its field", mutate(t, "records-rollcall.v1.json", func(m map[string]any) {
			delete(m["records"].([]any)[1].(map[string]any), "rollcall")
		}), batch, wire.ReasonField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(tt.data)
			if err == nil {
				t.Fatal("accepted")
			}
			if got := wire.Reason(err); got != tt.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.reason)
			}
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("code %q, want invalid", vetnet.ErrorCode(err))
			}
			if strings.Contains(err.Error(), "11010519491231002X") {
				t.Fatal("error text quotes an ID number")
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	v := vetnet.VisitEvent{ID: "01KB1Q2500ABCDEFGHJKMNPQRS", StationID: station, CheckInID: "01KB1Q0V00ABCDEFGHJKMNPQRS",
		Action: vetnet.VisitTransferred, Service: vetnet.ServiceBenefits, QueueNo: "B007", Staff: "xb-0107", Counter: "2号窗口",
		ToService: vetnet.ServiceLegalAid, ToQueueNo: "L002", At: t0}
	if got, ok := wire.VisitToWire(v).VisitOf(station); !ok || !reflect.DeepEqual(got, v) {
		t.Fatalf("visit round trip\n%#v\n%#v", got, v)
	}
	for _, on := range []bool{true, false} {
		d := vetnet.DutyEvent{ID: "01KB1Q2700ABCDEFGHJKMNPQRS", StationID: station, Staff: "xb-0107", On: on, At: t0}
		if got, ok := wire.DutyToWire(d).DutyOf(station); !ok || !reflect.DeepEqual(got, d) {
			t.Fatalf("duty round trip\n%#v\n%#v", got, d)
		}
	}
	if _, ok := wire.DutyToWire(vetnet.DutyEvent{}).VisitOf(station); ok {
		t.Fatal("a duty record read as a visit")
	}
	if _, ok := wire.VisitToWire(v).FeedbackOf(station); ok {
		t.Fatal("a visit record read as a rating")
	}
}

func TestCheckInRoundTrip(t *testing.T) {
	for _, c := range sampleCheckIns() {
		got := wire.CheckInToWire(c).ToDomain(station)
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip\n%#v\n%#v", got, c)
		}
	}
}

func FuzzDecodeCheckInBatch(f *testing.F) {
	for _, m := range messages {
		b, _ := os.ReadFile(filepath.Join("testdata", m.file))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := wire.DecodeCheckInBatch(station, data)
		if err != nil {
			if wire.Reason(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if b.Station != station || b.Size() == 0 || b.Size() > wire.MaxBatch {
			t.Fatalf("accepted a bad batch: %+v", b)
		}
	})
}

func FuzzDecodeControl(f *testing.F) {
	for _, m := range messages {
		b, _ := os.ReadFile(filepath.Join("testdata", m.file))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dec := range []func([]byte) error{
			func(b []byte) error { _, err := wire.DecodeAck(station, b); return err },
			func(b []byte) error { _, err := wire.DecodeStatus(station, b); return err },
			func(b []byte) error { _, err := wire.DecodeHeartbeat(station, b); return err },
			func(b []byte) error { _, err := wire.DecodeConfig(station, b); return err },
		} {
			if err := dec(data); err != nil && wire.Reason(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
		}
	})
}

// FuzzParseTopic: any topic either names a valid station and a known kind
// or is refused with a reason; a parsed topic is rebuilt exactly.
func FuzzParseTopic(f *testing.F) {
	f.Add(wire.Topic(station, wire.KindCheckIns))
	f.Add(wire.Topic(station, wire.KindHeartbeat))
	f.Add("vs/v1/st//checkins")
	f.Add("vs/v1/st/a/b/c")
	f.Fuzz(func(t *testing.T, topic string) {
		st, kind, err := wire.ParseTopic(topic)
		if err != nil {
			if wire.Reason(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if err := vetnet.ValidateStationID(st); err != nil {
			t.Fatalf("accepted station %q: %v", st, err)
		}
		if got := wire.Topic(st, kind); got != topic {
			t.Fatalf("ParseTopic(%q) = %q %q, rebuilt %q", topic, st, kind, got)
		}
	})
}

// FuzzBatchLabel: the label read alone is the one a full decode finds.
func FuzzBatchLabel(f *testing.F) {
	for _, m := range messages {
		b, _ := os.ReadFile(filepath.Join("testdata", m.file))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		label := wire.BatchLabel(data)
		if len(label) > 64 {
			t.Fatalf("label of %d bytes", len(label))
		}
		if b, err := wire.DecodeCheckInBatch(station, data); err == nil && b.Batch != label {
			t.Fatalf("BatchLabel %q, decoded %q", label, b.Batch)
		}
	})
}
