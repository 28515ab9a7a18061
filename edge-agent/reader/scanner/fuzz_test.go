package scanner_test

import (
	"testing"
	"unicode/utf8"

	"github.com/vetnet/vetnet/edge-agent/reader/scanner"
)

// FuzzScanDecoders feeds arbitrary bytes to both scanner decoders, whole
// and split at an arbitrary point: they must never panic, give the same
// codes however the bytes are split, and give only valid codes (bounded
// UTF-8 without control characters) or errors for people.
func FuzzScanDecoders(f *testing.F) {
	r := &rec{at: t0}
	r.typeText("VS:Ab-12/x?q=9")
	r.enter()
	f.Add(r.b, 30)
	f.Add([]byte("ABC\r\n退役\n\r"), 2)
	f.Add(scanner.KeyEvent(t0, scanner.EvKey, scanner.KeyEnter, 1), 0)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		if split < 0 {
			split = -split
		}
		split %= len(in) + 1
		var k1, k2 scanner.KeyDecoder
		whole := k1.Feed(in)
		parts := append(k2.Feed(in[:split]), k2.Feed(in[split:])...)
		check(t, "keys", whole, parts)
		var l1, l2 scanner.LineDecoder
		whole = l1.Feed(in, t0)
		parts = append(l2.Feed(in[:split], t0), l2.Feed(in[split:], t0)...)
		check(t, "lines", whole, parts)
	})
}

func check(t *testing.T, what string, whole, parts []scanner.Scan) {
	if len(whole) != len(parts) {
		t.Fatalf("%s: %d scans whole, %d split", what, len(whole), len(parts))
	}
	for i := range whole {
		a, b := whole[i], parts[i]
		if a.Code != b.Code || (a.Err == nil) != (b.Err == nil) || !a.At.Equal(b.At) {
			t.Fatalf("%s: scan %d differs: %+v / %+v", what, i, a, b)
		}
		if a.Err != nil {
			if a.Code != "" {
				t.Fatalf("%s: an error with a code", what)
			}
			continue
		}
		if a.Code == "" || len(a.Code) > scanner.MaxCodeLen || !utf8.ValidString(a.Code) || scanner.ValidateCode(a.Code) != nil {
			t.Fatalf("%s: bad code %q", what, a.Code)
		}
	}
}
