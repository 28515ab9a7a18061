package sam

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/vetnet/vetnet"
)

// Preamble starts every frame in both directions.
var Preamble = [5]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}

// Frame layout.
const (
	// HeaderLen is the preamble and the two length bytes.
	HeaderLen = 7
	// MaxLen is the largest length field accepted. The longest answer of
	// the standard commands (text, photo and fingerprints: 3+6+256+1024+1024+1
	// bytes) is well below it; a larger length is garbage that happened to
	// follow a preamble.
	MaxLen = 4096
	// minResponseLen is SW1 SW2 SW3 and the checksum.
	minResponseLen = 4
)

// Command is a host-to-module frame: CMD, PARA and optional data.
type Command struct {
	Cmd, Para byte
	Data      []byte
}

// The commands of the module.
var (
	CmdReset     = Command{Cmd: 0x10, Para: 0xFF} // reset the module
	CmdStatus    = Command{Cmd: 0x11, Para: 0xFF} // module status
	CmdSAMID     = Command{Cmd: 0x12, Para: 0xFF} // read the module's (SAM) ID
	CmdFind      = Command{Cmd: 0x20, Para: 0x01} // find a card
	CmdSelect    = Command{Cmd: 0x20, Para: 0x02} // select the card found
	CmdRead      = Command{Cmd: 0x30, Para: 0x01} // read text and photo
	CmdReadFP    = Command{Cmd: 0x30, Para: 0x10} // read text, photo and fingerprints
	CmdReadAddr  = Command{Cmd: 0x30, Para: 0x03} // read the newest appended address
	commandNames = map[[2]byte]string{
		{0x10, 0xFF}: "reset", {0x11, 0xFF}: "status", {0x12, 0xFF}: "sam-id",
		{0x20, 0x01}: "find", {0x20, 0x02}: "select",
		{0x30, 0x01}: "read", {0x30, 0x10}: "read-fp", {0x30, 0x03}: "read-address",
	}
)

// Name is the command's name for logs ("find", "read"), or its bytes.
func (c Command) Name() string {
	if n, ok := commandNames[[2]byte{c.Cmd, c.Para}]; ok {
		return n
	}
	return fmt.Sprintf("%02X%02X", c.Cmd, c.Para)
}

// Encode returns the whole frame: preamble, length, CMD, PARA, data, CHK.
func (c Command) Encode() []byte {
	return encodeFrame(append([]byte{c.Cmd, c.Para}, c.Data...))
}

// Response is a module-to-host frame: the card's status SW1 SW2, the
// module's result SW3 and the data.
type Response struct {
	SW1, SW2 byte
	SW3      Status
	Data     []byte
}

// Encode returns the whole frame (the emulator sends it).
func (r Response) Encode() []byte {
	return encodeFrame(append([]byte{r.SW1, r.SW2, byte(r.SW3)}, r.Data...))
}

// Err returns the module's result as an error: nil for success, else a
// *StatusError.
func (r Response) Err() error { return r.SW3.Err() }

// encodeFrame frames body: preamble, big-endian length (body and CHK), body,
// CHK = XOR of the length bytes and the body.
func encodeFrame(body []byte) []byte {
	out := make([]byte, 0, HeaderLen+len(body)+1)
	out = append(out, Preamble[:]...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(body)+1))
	out = append(out, body...)
	return append(out, Checksum(out[5:]))
}

// Checksum is the XOR of b: of every byte from Len1 up to the byte before
// CHK.
func Checksum(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// ParseFrame looks for one frame at the start of buf, as bytes arrive
// from the module. It returns:
//
//   - body, n, nil: a whole, valid frame; body is what lies between the
//     length field and CHK (it aliases buf), and n bytes are consumed.
//   - nil, n > 0, nil: n bytes of garbage before a (possible) preamble
//     are to be skipped.
//   - nil, 0, nil: more bytes are needed.
//     (A preamble whose frame is incomplete while a whole, valid frame
//     follows it counts as garbage: its length came from noise.)
//   - nil, n > 0, *FrameError: a preamble led to a bad length or checksum;
//     skip n bytes (one, so that a real frame inside the garbage is still
//     found) and go on scanning.
//
// It never reads beyond buf and never panics, whatever buf holds.
func ParseFrame(buf []byte) (body []byte, n int, err error) {
	i := bytes.Index(buf, Preamble[:])
	if i < 0 {
		// Keep a tail that may be the start of a preamble cut by a read.
		keep := 0
		for k := min(len(Preamble)-1, len(buf)); k > 0; k-- {
			if bytes.Equal(buf[len(buf)-k:], Preamble[:k]) {
				keep = k
				break
			}
		}
		return nil, len(buf) - keep, nil
	}
	if i > 0 {
		return nil, i, nil
	}
	if len(buf) < HeaderLen {
		return nil, 0, nil
	}
	l := int(binary.BigEndian.Uint16(buf[5:7]))
	if l < 1 || l > MaxLen {
		return nil, 1, &FrameError{Reason: ReasonLength, Detail: fmt.Sprintf("length field %d", l)}
	}
	if len(buf) < HeaderLen+l {
		// A preamble in garbage may be followed by any length: rather
		// than wait for bytes that will never come, skip it when a whole,
		// valid frame already follows it in buf.
		for j := 1; ; j++ {
			k := bytes.Index(buf[j:], Preamble[:])
			if k < 0 {
				return nil, 0, nil
			}
			j += k
			if complete(buf[j:]) {
				return nil, j, nil
			}
		}
	}
	end := HeaderLen + l
	if got, want := buf[end-1], Checksum(buf[5:end-1]); got != want {
		return nil, 1, &FrameError{Reason: ReasonChecksum, Detail: fmt.Sprintf("CHK %02X, computed %02X", got, want)}
	}
	return buf[HeaderLen : end-1], end, nil
}

// complete reports whether buf starts with a whole frame with a valid
// checksum.
func complete(buf []byte) bool {
	if len(buf) < HeaderLen {
		return false
	}
	l := int(binary.BigEndian.Uint16(buf[5:7]))
	end := HeaderLen + l
	return l >= 1 && l <= MaxLen && len(buf) >= end && buf[end-1] == Checksum(buf[5:end-1])
}

// ParseResponse splits a frame body into a Response.
//
// Errors: *FrameError (ReasonShort) when the body is shorter than SW1 SW2 SW3.
func ParseResponse(body []byte) (Response, error) {
	if len(body) < minResponseLen-1 {
		return Response{}, &FrameError{Reason: ReasonShort, Detail: fmt.Sprintf("%d bytes of body", len(body))}
	}
	return Response{SW1: body[0], SW2: body[1], SW3: Status(body[2]), Data: body[3:]}, nil
}

// ParseCommand splits a frame body into a Command (the emulator reads
// them).
//
// Errors: *FrameError (ReasonShort) without CMD and PARA.
func ParseCommand(body []byte) (Command, error) {
	if len(body) < 2 {
		return Command{}, &FrameError{Reason: ReasonShort, Detail: fmt.Sprintf("%d bytes of body", len(body))}
	}
	return Command{Cmd: body[0], Para: body[1], Data: body[2:]}, nil
}

// Reasons of a FrameError.
const (
	ReasonLength   = "length"   // the length field is out of range
	ReasonChecksum = "checksum" // CHK does not match
	ReasonShort    = "short"    // a frame too short for its kind
	ReasonTimeout  = "timeout"  // no whole frame before the deadline
	ReasonData     = "data"     // the data of a frame does not fit its length fields
)

// FrameError is a frame that could not be taken from the link. It unwraps
// to a *vetnet.Error (EUNAVAILABLE: the link garbled it; reading again
// helps) whose messages can be shown on the kiosk.
type FrameError struct {
	Reason string // one of the Reason constants
	Detail string // for technicians; never card data
}

func (e *FrameError) Error() string { return "sam: frame: " + e.Reason + ": " + e.Detail }

func (e *FrameError) Unwrap() error {
	if e.Reason == ReasonTimeout {
		return errNoAnswer
	}
	return errGarbled
}

var (
	errGarbled  = vetnet.Errorz(vetnet.EUNAVAILABLE, "读卡器通信出错，请将身份证重新放好", "The reader's answer was garbled. Please place the card again.")
	errNoAnswer = vetnet.Errorz(vetnet.EUNAVAILABLE, "读卡器没有应答，请联系工作人员", "The card reader does not answer. Please ask staff.")
)
