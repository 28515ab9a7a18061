package hub

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/wire"
)

// FuzzParseRules: any rules text parses to rules that validate, or is
// refused with EINVALID.
func FuzzParseRules(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("..", "..", "firmware-config", "alerts", "rules.toml"))
	f.Add(string(b))
	f.Add("offline_minutes = -1")
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseRules(text)
		if err != nil {
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("error code %q: %v", vetnet.ErrorCode(err), err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted rules that do not validate: %v", err)
		}
	})
}

// FuzzHandleMessage runs any topic and payload through the whole ingest
// path of one hub: it never panics, answers a check-in batch it could not
// read with a reason, and acknowledges only IDs it was sent.
func FuzzHandleMessage(f *testing.F) {
	for _, name := range []string{"checkins.v1.json", "records.v1.json", "heartbeat.v1.json", "status-online.v1.json", "records-visit.v1.json"} {
		b, _ := os.ReadFile(filepath.Join("..", "..", "wire", "testdata", name))
		f.Add("checkins", string(b))
		f.Add("heartbeat", string(b))
		f.Add("status", string(b))
	}
	h := newTestHub(f, "", nil)
	f.Fuzz(func(t *testing.T, kind, payload string) {
		topic := "vs/v1/st/" + station + "/" + kind
		ack := h.HandleMessage(topic, []byte(payload))
		if ack == nil {
			return
		}
		if ack.Error != nil && ack.Error.Reason == "" {
			t.Fatalf("an error ack without a reason: %+v", ack)
		}
		sent := map[string]bool{}
		if b, err := wire.DecodeCheckInBatch(station, []byte(payload)); err == nil {
			for _, c := range b.CheckIns {
				sent[c.ID] = true
			}
			for _, r := range b.Records {
				sent[r.ID] = true
			}
		}
		for _, id := range ack.IDs {
			if !sent[id] {
				t.Fatalf("acknowledged %q, which the batch does not hold", id)
			}
		}
		raw, err := ack.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wire.DecodeAck(station, raw); err != nil {
			t.Fatalf("the hub's own ack does not decode: %v", err)
		}
	})
}
