package sam_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader/sam"
	"github.com/vetnet/vetnet/edge-agent/reader/sam/samtest"
)

// FuzzParseFrame feeds arbitrary bytes to the frame parser as a stream, the
// way the device reads them: it must never panic, always make progress,
// return only frames whose bytes it was given with a valid checksum, and
// find a valid frame appended after any garbage.
func FuzzParseFrame(f *testing.F) {
	f.Add([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x41, 0x45})
	f.Add([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x08, 0x00, 0x00, 0x9F, 0x00, 0x00, 0x00, 0x00, 0x97})
	f.Add([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF})
	f.Add([]byte{0x01, 0xAA, 0xAA, 0xAA, 0x96})
	f.Add(sam.Response{SW3: sam.StatusOK, Data: make([]byte, 300)}.Encode())
	marker := sam.Response{SW1: 0x12, SW2: 0x34, SW3: sam.StatusOK, Data: bytes.Repeat([]byte("end"), 170)}.Encode()
	// The XOR checksum is weak: garbage may begin a frame that swallows
	// the valid frames after it and happens to check. Such a frame is at
	// most MaxLen long, so frames past that are found.
	var markers []byte
	for len(markers) <= sam.HeaderLen+sam.MaxLen+len(marker) {
		markers = append(markers, marker...)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		frames := parseAll(t, in)
		for _, body := range frames {
			if _, err := sam.ParseResponse(body); err != nil && len(body) >= 3 {
				t.Fatalf("ParseResponse(% X): %v", body, err)
			}
		}
		// Whatever came before, the whole frames after it are found (the
		// last frame parsed is a marker).
		all := parseAll(t, append(append([]byte(nil), in...), markers...))
		if len(all) == 0 || !bytes.Equal(all[len(all)-1], marker[sam.HeaderLen:len(marker)-1]) {
			t.Fatalf("the frame after % X was not found", in)
		}
	})
}

// parseAll runs ParseFrame over buf as the device does and checks each step.
func parseAll(t *testing.T, buf []byte) [][]byte {
	var frames [][]byte
	for len(buf) > 0 {
		body, n, err := sam.ParseFrame(buf)
		if n < 0 || n > len(buf) {
			t.Fatalf("n = %d of %d bytes", n, len(buf))
		}
		if err != nil {
			var fe *sam.FrameError
			if !errors.As(err, &fe) || n == 0 || vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
				t.Fatalf("error %v with n = %d", err, n)
			}
		}
		if body != nil {
			frame := buf[:n]
			if !bytes.HasPrefix(frame, sam.Preamble[:]) || int(frame[5])<<8|int(frame[6]) != n-sam.HeaderLen ||
				frame[n-1] != sam.Checksum(frame[5:n-1]) || !bytes.Equal(body, frame[sam.HeaderLen:n-1]) {
				t.Fatalf("bad frame % X", frame)
			}
			frames = append(frames, append([]byte(nil), body...))
		}
		if n == 0 {
			// Only an incomplete frame or preamble may wait for more bytes.
			if len(buf) >= sam.HeaderLen+sam.MaxLen {
				t.Fatalf("stuck on %d bytes", len(buf))
			}
			break
		}
		buf = buf[n:]
	}
	return frames
}

// FuzzDecodeText decodes arbitrary text blocks: it must never panic; a
// block it accepts holds a valid card that encodes back to a block decoding
// to the same card; a block it refuses gives a typed error with messages
// for people that hold no card data.
func FuzzDecodeText(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, c := range []sam.Card{resident(), samtest.ResidentCard(r), samtest.HMTCard(r), samtest.ForeignCard(r)} {
		b, _ := sam.EncodeText(c)
		f.Add(b)
	}
	f.Add(make([]byte, sam.TextLen))
	f.Add(bytes.Repeat([]byte{0x20, 0x00}, sam.TextLen/2))
	f.Fuzz(func(t *testing.T, block []byte) {
		c, err := sam.DecodeText(block, now)
		if err != nil {
			var de *sam.DecodeError
			var ue *sam.UnsupportedCardError
			if !errors.As(err, &de) && !errors.As(err, &ue) {
				t.Fatalf("untyped error %v", err)
			}
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("code %s: %v", vetnet.ErrorCode(err), err)
			}
			zh, en := vetnet.ErrorMessage(err, "zh"), vetnet.ErrorMessage(err, "en")
			if zh == "" || en == "" || zh == en {
				t.Fatalf("messages %q / %q", zh, en)
			}
			if len(block) == sam.TextLen {
				// The ID number field, as text, must not leak into a message.
				if id := asciiField(block, 122, 36); len(id) >= 6 {
					for _, s := range []string{err.Error(), zh, en} {
						if strings.Contains(s, id) {
							t.Fatalf("message %q holds the number %q", s, id)
						}
					}
				}
			}
			return
		}
		if !c.Doc.Valid() || !c.Gender.Valid() || c.IDNumber == "" || c.Birth == "" {
			t.Fatalf("accepted an incomplete card %+v", c)
		}
		if err := vetnet.ValidateDocNumber(c.Doc, c.IDNumber, now); err != nil {
			t.Fatalf("accepted number fails: %v", err)
		}
		v := c.Visitor()
		if v.Name == "" || strings.ContainsAny(v.Name, "\x00\n\r\t") || len([]rune(v.Name)) > vetnet.MaxNameLen {
			t.Fatalf("visitor name %q", v.Name)
		}
		again, err := sam.EncodeText(c)
		if err != nil {
			t.Fatalf("EncodeText of a decoded card: %v", err)
		}
		c2, err := sam.DecodeText(again, now)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		c.Photo, c2.Photo = nil, nil
		if !equalCards(c, c2) {
			t.Fatalf("round trip\n%+v\n%+v", c, c2)
		}
	})
}

func equalCards(a, b sam.Card) bool {
	return a.Doc == b.Doc && a.Name == b.Name && a.NameEN == b.NameEN && a.Gender == b.Gender && a.Nation == b.Nation &&
		a.Birth == b.Birth && a.Address == b.Address && a.IDNumber == b.IDNumber && a.Authority == b.Authority &&
		a.ValidFrom == b.ValidFrom && a.ValidTo == b.ValidTo && a.PassNumber == b.PassNumber &&
		a.IssueCount == b.IssueCount && a.Nationality == b.Nationality && a.Version == b.Version
}

// asciiField returns the ASCII characters of a UTF-16LE field, trimmed.
func asciiField(b []byte, off, n int) string {
	var s []byte
	for i := off; i+1 < off+n; i += 2 {
		if b[i+1] == 0 && b[i] > ' ' && b[i] < 0x7F {
			s = append(s, b[i])
		}
	}
	return string(s)
}
