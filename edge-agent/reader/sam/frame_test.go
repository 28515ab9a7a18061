package sam

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/vetnet/vetnet"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The command frames of the module's documentation, byte for byte.
func TestCommandFrames(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"reset", CmdReset, "AA AA AA 96 69 00 03 10 FF EC"},
		{"status", CmdStatus, "AA AA AA 96 69 00 03 11 FF ED"},
		{"sam id", CmdSAMID, "AA AA AA 96 69 00 03 12 FF EE"},
		{"find", CmdFind, "AA AA AA 96 69 00 03 20 01 22"},
		{"select", CmdSelect, "AA AA AA 96 69 00 03 20 02 21"},
		{"read", CmdRead, "AA AA AA 96 69 00 03 30 01 32"},
		{"read fingerprint", CmdReadFP, "AA AA AA 96 69 00 03 30 10 23"},
		{"read address", CmdReadAddr, "AA AA AA 96 69 00 03 30 03 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cmd.Encode(); !bytes.Equal(got, unhex(t, tt.want)) {
				t.Errorf("Encode = % X, want %s", got, tt.want)
			}
		})
	}
}

func TestParseFrame(t *testing.T) {
	errFrame := "AA AA AA 96 69 00 04 00 00 41 45" // the documentation's short error frame
	tests := []struct {
		name     string
		in       string
		wantBody string // hex; "" for none
		wantN    int
		wantErr  string // FrameError reason
	}{
		{"error frame", errFrame, "00 00 41", 11, ""},
		{"find answer", "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", "00 00 9F 00 00 00 00", 15, ""},
		{"trailing bytes stay", errFrame + " AA AA", "00 00 41", 11, ""},
		{"garbage first", "01 02 03 " + errFrame, "", 3, ""},
		{"garbage only", "01 02 03 04 05 06", "", 6, ""},
		{"garbage then partial preamble", "01 02 AA AA", "", 2, ""},
		{"partial preamble", "AA AA AA 96", "", 0, ""},
		{"header incomplete", "AA AA AA 96 69 00", "", 0, ""},
		{"body incomplete", "AA AA AA 96 69 00 04 00 00", "", 0, ""},
		{"bad checksum", "AA AA AA 96 69 00 04 00 00 41 46", "", 1, ReasonChecksum},
		{"zero length", "AA AA AA 96 69 00 00 00", "", 1, ReasonLength},
		{"huge length", "AA AA AA 96 69 FF FF 00", "", 1, ReasonLength},
		{"empty", "", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, n, err := ParseFrame(unhex(t, tt.in))
			var fe *FrameError
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (!errors.As(err, &fe) || fe.Reason != tt.wantErr):
				t.Fatalf("err = %v, want reason %s", err, tt.wantErr)
			}
			if n != tt.wantN {
				t.Errorf("n = %d, want %d", n, tt.wantN)
			}
			want := unhex(t, tt.wantBody)
			if !bytes.Equal(body, want) || (body == nil) != (len(want) == 0) {
				t.Errorf("body = % X, want % X", body, want)
			}
		})
	}
}

// A stream of frames with garbage between and inside them is resynchronised:
// every good frame comes out, in order, and a corrupted one is dropped.
func TestResync(t *testing.T) {
	good1 := Response{SW3: StatusOK, Data: []byte{1, 2, 3}}.Encode()
	good2 := Response{SW3: StatusFound, Data: []byte{0, 0, 0, 0}}.Encode()
	bad := Response{SW3: StatusOK, Data: []byte{9}}.Encode()
	bad[len(bad)-1] ^= 0x55
	var stream []byte
	stream = append(stream, 0xAA, 0xAA, 0x00, 0x96) // a broken preamble
	stream = append(stream, good1...)
	stream = append(stream, bad...)
	stream = append(stream, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF) // a preamble with a huge length
	stream = append(stream, good2...)

	var got []Response
	var errs int
	buf := stream
	for len(buf) > 0 {
		body, n, err := ParseFrame(buf)
		if err != nil {
			errs++
		}
		if body != nil {
			r, err := ParseResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if n == 0 {
			break
		}
		buf = buf[n:]
	}
	if len(got) != 2 || got[0].SW3 != StatusOK || !bytes.Equal(got[0].Data, []byte{1, 2, 3}) || got[1].SW3 != StatusFound {
		t.Fatalf("frames = %+v", got)
	}
	if errs < 2 {
		t.Errorf("errors = %d, want the bad checksum and the bad length", errs)
	}
}

func TestFrameErrorsForPeople(t *testing.T) {
	for _, r := range []string{ReasonChecksum, ReasonLength, ReasonShort, ReasonTimeout, ReasonData} {
		err := error(&FrameError{Reason: r})
		if vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
			t.Errorf("%s: code %s", r, vetnet.ErrorCode(err))
		}
		if zh := vetnet.ErrorMessage(err, "zh"); zh == "" || zh == vetnet.ErrorMessage(err, "en") {
			t.Errorf("%s: no Chinese message", r)
		}
	}
}

// Every documented result code maps to a message in both languages; the
// successes are not errors.
func TestStatuses(t *testing.T) {
	codes := map[Status]string{
		StatusNoContent: vetnet.ENOTFOUND, StatusFindFailed: vetnet.ENOTFOUND,
		StatusHostChecksum: vetnet.EUNAVAILABLE, StatusHostLength: vetnet.EUNAVAILABLE,
		StatusCommand: vetnet.EINTERNAL, StatusUnauthorised: vetnet.EINTERNAL, StatusUnknown: vetnet.EUNAVAILABLE,
		StatusCardAuthModule: vetnet.EINVALID, StatusModuleAuthCard: vetnet.EINVALID, StatusVerify: vetnet.EINVALID,
		StatusCardType: vetnet.EINVALID, StatusReadFailed: vetnet.EUNAVAILABLE, StatusRandom: vetnet.EUNAVAILABLE,
		StatusSelfTest: vetnet.EUNAVAILABLE, StatusNotAuthorised: vetnet.EUNAVAILABLE, StatusSelectFailed: vetnet.EUNAVAILABLE,
		0x55: vetnet.EUNAVAILABLE, // undocumented
	}
	for _, s := range Statuses {
		if s.OK() {
			if s.Err() != nil {
				t.Errorf("%v is an error", s)
			}
			continue
		}
		if _, ok := codes[s]; !ok {
			t.Errorf("%v has no expected code in this test", s)
		}
	}
	for s, code := range codes {
		t.Run(s.String(), func(t *testing.T) {
			err := s.Err()
			var se *StatusError
			if !errors.As(err, &se) || se.Status != s {
				t.Fatalf("Err() = %v", err)
			}
			if got := vetnet.ErrorCode(err); got != code {
				t.Errorf("code %s, want %s", got, code)
			}
			zh, en := vetnet.ErrorMessage(err, "zh"), vetnet.ErrorMessage(err, "en")
			if zh == "" || en == "" || zh == en {
				t.Errorf("messages %q / %q", zh, en)
			}
		})
	}
	if !(&StatusError{Status: StatusSelfTest}).ModuleFault() || (&StatusError{Status: StatusReadFailed}).ModuleFault() {
		t.Error("ModuleFault: self-test is the module's fault, a failed read is not")
	}
}

func TestReadData(t *testing.T) {
	text := bytes.Repeat([]byte{1}, TextLen)
	photo := bytes.Repeat([]byte{2}, 1024)
	data := EncodeReadData(ReadData{Text: text, Photo: photo}, false)
	// The documented sizes: Len 0x0508, a frame of 1295 bytes.
	frame := Response{SW3: StatusOK, Data: data}.Encode()
	if len(frame) != 1295 || frame[5] != 0x05 || frame[6] != 0x08 {
		t.Fatalf("read answer: %d bytes, Len % X", len(frame), frame[5:7])
	}
	rd, err := ParseReadData(data, false)
	if err != nil || !bytes.Equal(rd.Text, text) || !bytes.Equal(rd.Photo, photo) {
		t.Fatalf("ParseReadData: %v", err)
	}
	fp := EncodeReadData(ReadData{Text: text, Photo: photo, Fingerprint: make([]byte, 1024)}, true)
	if rd, err := ParseReadData(fp, true); err != nil || len(rd.Fingerprint) != 1024 {
		t.Fatalf("with fingerprints: %v", err)
	}
	for name, d := range map[string][]byte{"empty": nil, "short": data[:3], "truncated": data[:500], "longer": append(data, 0)} {
		if _, err := ParseReadData(d, false); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
