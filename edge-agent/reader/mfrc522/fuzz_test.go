package mfrc522_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader/mfrc522"
)

// FuzzReadUID gives ReadUID any first anticollision answer (bytes, valid
// bits of the last byte, the error register) and any SAK: it never
// panics, every failure is a typed *mfrc522.Error with a code, and a UID
// is returned only from a whole answer with the right BCC and a SAK that
// says the UID is complete.
func FuzzReadUID(f *testing.F) {
	f.Add([]byte{0xDE, 0xAD, 0xBE, 0xEF, 0xDE ^ 0xAD ^ 0xBE ^ 0xEF}, byte(0), byte(0), byte(0x08))
	f.Add([]byte{0x88, 0x04, 0xA2, 0x2B, 0x88 ^ 0x04 ^ 0xA2 ^ 0x2B}, byte(0), byte(0), byte(0x04))
	f.Add([]byte{0xDE, 0xAD}, byte(3), byte(0x08), byte(0))
	f.Fuzz(func(t *testing.T, answer []byte, validBits, errReg, sak byte) {
		if len(answer) > 64 {
			answer = answer[:64] // the chip's FIFO
		}
		validBits &= 0x07
		s := &script{}
		var noAnswer []byte
		if len(answer) > 0 {
			noAnswer = answer
		}
		s.transceive([]byte{0x93, 0x20}, 0, noAnswer, validBits, errReg)
		whole := noAnswer != nil && errReg&0x1B == 0 && len(answer) == 5 && validBits == 0 &&
			answer[0]^answer[1]^answer[2]^answer[3] == answer[4]
		if whole {
			frame := append([]byte{0x93, 0x70}, answer...)
			lo, hi := crcA(frame)
			s.crc(frame, lo, hi)
			slo, shi := crcA([]byte{sak})
			s.transceive(append(frame, lo, hi), 0, []byte{sak, slo, shi}, 0, 0)
			s.crc([]byte{sak}, slo, shi)
			if sak&0x04 != 0 && answer[0] == 0x88 {
				s.transceive([]byte{0x95, 0x20}, 0, nil, 0, 0) // the card left
			}
		}
		d, _ := newDev(t, s)
		uid, err := d.ReadUID()
		if err != nil {
			var me *mfrc522.Error
			if !errors.As(err, &me) || vetnet.ErrorCode(err) == "" {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if !whole || sak&0x04 != 0 || !bytes.Equal(uid, answer[:4]) {
			t.Fatalf("UID %v from answer % X bits %d err %02X sak %02X", uid, answer, validBits, errReg, sak)
		}
	})
}
