// Package reader is what the agent knows of identity readers: a reader
// turns something a visitor presents (an ID card on a SAM module, a badge on
// an MFRC522, a QR code on a scanner, a tap on the simulated reader) into
// Events, and reports its Health for heartbeats and the staff screen.
//
// Drivers live in sub-packages named after their hardware (sim/ now; sam/,
// mfrc522/, hidscan/ later). A driver owns its device: it opens it in Run,
// reads until its context ends, and reports a failing or missing device
// through Health and, where a person is waiting, through an Event with Err.
// The agent runs every reader under a supervisor that restarts Run after it
// fails, so a driver need not retry forever by itself.
package reader

import (
	"context"
	"time"

	"github.com/vetnet/vetnet"
)

// Reader states, as in heartbeats (wire.ReaderOK, ...).
const (
	StateOK     = "ok"     // working
	StateFault  = "fault"  // present but failing
	StateAbsent = "absent" // configured but not connected
)

// Kinds of readers.
const (
	KindIDCard    = "idcard"    // resident ID card reader (SAM)
	KindBadge     = "badge"     // staff badge reader (MIFARE)
	KindQR        = "qr"        // QR code scanner
	KindSimulated = "simulated" // sim.Reader
)

// Event is one read. Exactly one of Visitor, Badge, Token and Err is set.
type Event struct {
	Reader  string          // the reader's Name
	Visitor *vetnet.Visitor // who was read (ID card); personal data, stays in the agent
	Badge   string          // a staff badge's UID (vetnet.NormalizeBadgeUID form)
	Token   string          // a scanned code (QR, barcode): an opaque token, never shown or logged whole
	Method  vetnet.Method   // how: card, qr (never manual)
	Photo   []byte          // the card's photo (WLT, opaque) when the profile keeps it; personal data
	Err     error           // why a read failed; a *vetnet.Error whose messages can be shown
	At      time.Time       // when, by the reader's clock
}

// Health is the state of one reader.
type Health struct {
	Name   string // e.g. idcard0; 1–32 characters
	Kind   string // one of the Kind constants
	State  string // one of the State constants
	Detail string // the last problem, for technicians; never personal data
}

// Reader is a source of Events.
type Reader interface {
	// Name identifies the reader in events, logs and heartbeats.
	Name() string

	// Run reads until ctx is done and then returns nil. It sends each
	// read to out, giving up a send when ctx is done. It returns an error
	// (EUNAVAILABLE for a device that cannot be opened, EINTERNAL) when it
	// cannot go on; the caller may call Run again later.
	Run(ctx context.Context, out chan<- Event) error

	// Health reports the reader's state; safe to call at any time, from
	// any goroutine.
	Health() Health
}
