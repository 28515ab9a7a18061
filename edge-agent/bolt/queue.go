package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/vetnet/vetnet"
)

// The queue of the day. Every check-in gets a ticket in its service's
// queue, in the same transaction as the check-in; staff call, serve, mark
// no-shows and transfer tickets, and every such step is a visit event in
// the records outbox, written in the step's own transaction, so the hub
// learns each step exactly once. A transfer ends the ticket and gives the
// visit a new one (a new number) at the end of the target service's queue.
var (
	bucketTickets   = []byte("tickets")   // "YYYY-MM-DD/" + ticket number (8 bytes) → ticket JSON
	bucketTicketCur = []byte("ticketcur") // check-in ID → key of its current ticket
	bucketWaiting   = []byte("waiting")   // "YYYY-MM-DD/service/" + ticket number → ticket key: the waiting tickets in order
	bucketDuty      = []byte("duty")      // staff ID → duty JSON (on duty since)
	keyTicketN      = []byte("ticket_n")  // last ticket number
	queueBuckets    = [][]byte{bucketTickets, bucketTicketCur, bucketWaiting, bucketDuty}
)

// Ticket states (as localapi's).
const (
	TicketWaiting     = "waiting"
	TicketCalled      = "called"
	TicketServed      = "served"
	TicketNoShow      = "no_show"
	TicketTransferred = "transferred"
)

// QueueTicket is a visit's place in a service's queue of the day. It holds
// no personal data; MaskedName is filled when it is read.
type QueueTicket struct {
	No          uint64         `json:"no"` // the store's ticket number: the order tickets were issued
	CheckInID   string         `json:"checkin_id"`
	Seq         uint64         `json:"seq"` // the check-in's sequence number
	QueueNo     string         `json:"queue_no"`
	Service     vetnet.Service `json:"service"`
	Detail      string         `json:"detail,omitempty"`
	State       string         `json:"state"`
	At          time.Time      `json:"at"`                 // issued: the check-in, or the transfer that made it
	CheckedInAt time.Time      `json:"checked_in_at"`      // the check-in's time
	CalledAt    time.Time      `json:"called_at,omitzero"` // first call
	LastCallAt  time.Time      `json:"last_call_at,omitzero"`
	DoneAt      time.Time      `json:"done_at,omitzero"` // served, no-show or transferred
	Counter     string         `json:"counter,omitempty"`
	Staff       string         `json:"staff,omitempty"` // who acted last
	Calls       int            `json:"calls"`
	From        string         `json:"from,omitempty"` // the number of the ticket transferred from
	MaskedName  string         `json:"-"`
}

// Done reports whether the ticket has left the queue.
func (t QueueTicket) Done() bool {
	return t.State == TicketServed || t.State == TicketNoShow || t.State == TicketTransferred
}

// day returns the local calendar day of t, which numbers the queues.
func (s *Store) day(t time.Time) string { return t.In(s.loc).Format("2006-01-02") }

// Day returns today's date (YYYY-MM-DD) in the store's time zone.
func (s *Store) Day() string { return s.day(s.now()) }

// issueNumber takes the next queue number of a service for day. The
// first number of a service each day drops the counters and tickets of
// other days.
func issueNumber(tx *bbolt.Tx, day string, info vetnet.ServiceInfo) (string, uint64, error) {
	qkey := []byte(day + "/" + string(info.Key))
	queue := tx.Bucket(bucketQueue)
	var issued uint64
	if v := queue.Get(qkey); v != nil {
		issued = binary.BigEndian.Uint64(v)
	} else {
		if err := pruneQueue(queue, []byte(day+"/")); err != nil {
			return "", 0, err
		}
		if err := pruneTickets(tx, []byte(day+"/")); err != nil {
			return "", 0, err
		}
	}
	if err := queue.Put(qkey, u64(issued+1)); err != nil {
		return "", 0, internal(err)
	}
	return fmt.Sprintf("%c%03d", info.QueuePrefix, issued+1), issued, nil
}

// pruneTickets drops the tickets of days other than today and their index
// entries.
func pruneTickets(tx *bbolt.Tx, today []byte) error {
	tickets, cur := tx.Bucket(bucketTickets), tx.Bucket(bucketTicketCur)
	var old [][]byte
	var ids []string
	_ = tickets.ForEach(func(k, v []byte) error {
		if !bytes.HasPrefix(k, today) {
			old = append(old, copyBytes(k))
			var t QueueTicket
			if json.Unmarshal(v, &t) == nil {
				ids = append(ids, t.CheckInID)
			}
		}
		return nil
	})
	for _, k := range old {
		if err := tickets.Delete(k); err != nil {
			return internal(err)
		}
	}
	for _, id := range ids {
		if k := cur.Get([]byte(id)); k != nil && !bytes.HasPrefix(k, today) {
			if err := cur.Delete([]byte(id)); err != nil {
				return internal(err)
			}
		}
	}
	return pruneQueue(tx.Bucket(bucketWaiting), today)
}

func waitingKey(day string, sv vetnet.Service, no uint64) []byte {
	return append([]byte(day+"/"+string(sv)+"/"), u64(no)...)
}

// waitingCount is the queue bucket's key of the number of a service's
// tickets waiting today.
func waitingCount(day string, sv vetnet.Service) []byte {
	return []byte(day + "/" + string(sv) + "#waiting")
}

// leaveWaiting takes a ticket that was waiting out of the waiting index.
func leaveWaiting(tx *bbolt.Tx, day string, t QueueTicket) error {
	if err := tx.Bucket(bucketWaiting).Delete(waitingKey(day, t.Service, t.No)); err != nil {
		return internal(err)
	}
	return addU64(tx.Bucket(bucketQueue), waitingCount(day, t.Service), -1)
}

func ticketKey(day string, no uint64) []byte { return append([]byte(day+"/"), u64(no)...) }

// putNewTicket numbers t, writes it as the current ticket of its check-in
// and returns how many tickets of its service wait ahead of it.
func putNewTicket(tx *bbolt.Tx, day string, t *QueueTicket) (int, error) {
	meta := tx.Bucket(bucketMeta)
	t.No = getU64(meta, keyTicketN) + 1
	if err := putCopy(meta, keyTicketN, u64(t.No)); err != nil {
		return 0, err
	}
	queue := tx.Bucket(bucketQueue)
	ahead := int(getU64(queue, waitingCount(day, t.Service)))
	key := ticketKey(day, t.No)
	if err := putCopy(tx.Bucket(bucketWaiting), waitingKey(day, t.Service, t.No), key); err != nil {
		return 0, err
	}
	if err := addU64(queue, waitingCount(day, t.Service), 1); err != nil {
		return 0, err
	}
	return ahead, putTicket(tx, key, *t)
}

func putTicket(tx *bbolt.Tx, key []byte, t QueueTicket) error {
	b, err := json.Marshal(t)
	if err != nil {
		return internal(err)
	}
	if err := tx.Bucket(bucketTickets).Put(key, b); err != nil {
		return internal(err)
	}
	return putCopy(tx.Bucket(bucketTicketCur), []byte(t.CheckInID), key)
}

var (
	errNoTicket    = vetnet.Errorz(vetnet.ENOTFOUND, "今天的排队中没有这个号", "No such ticket in today's queue.")
	errNobody      = vetnet.Errorz(vetnet.ENOTFOUND, "该服务目前没有人排队", "Nobody is waiting for this service.")
	errNotCalled   = vetnet.Errorz(vetnet.ECONFLICT, "这个号还没有叫到，或已经办结", "This ticket has not been called, or is already done.")
	errTicketDone  = vetnet.Errorz(vetnet.ECONFLICT, "这个号已经办结，不能转办", "This ticket is already done and cannot be transferred.")
	errSameService = vetnet.Errorz(vetnet.EINVALID, "请选择另一个服务项目", "Choose another service to transfer to.")
)

// Step is a staff member's step on the queue.
type Step struct {
	Staff   string // who; empty at a station without a roster
	Counter string // the counter (desk) calling; Call only
}

// Call calls the first waiting ticket of service today to the step's
// counter, and records the call.
//
// Errors: ENOTFOUND (nobody waits), EINVALID (service, counter), EFULL
// (outbox or disk), EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Call(service vetnet.Service, st Step) (QueueTicket, error) {
	if !service.Valid() {
		return QueueTicket{}, vetnet.Errorz(vetnet.EINVALID, "未知的服务项目", "Unknown service.")
	}
	return s.step(st, func(tx *bbolt.Tx, day string) ([]byte, QueueTicket, error) {
		prefix := []byte(day + "/" + string(service) + "/")
		k, key := tx.Bucket(bucketWaiting).Cursor().Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil, QueueTicket{}, errNobody
		}
		v := tx.Bucket(bucketTickets).Get(key)
		if v == nil {
			return nil, QueueTicket{}, internal(fmt.Errorf("waiting ticket %x missing", key))
		}
		var t QueueTicket
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, QueueTicket{}, internal(err)
		}
		return copyBytes(key), t, nil
	}, func(tx *bbolt.Tx, day string, t *QueueTicket, now time.Time) (vetnet.VisitAction, error) {
		if err := leaveWaiting(tx, day, *t); err != nil {
			return "", err
		}
		t.State, t.CalledAt, t.LastCallAt, t.Calls, t.Counter = TicketCalled, now, now, t.Calls+1, st.Counter
		return vetnet.VisitCalled, nil
	})
}

// Recall calls a called ticket again.
//
// Errors: ENOTFOUND (no ticket of today), ECONFLICT (not called), EFULL,
// EUNAVAILABLE, EINTERNAL.
func (s *Store) Recall(checkInID string, st Step) (QueueTicket, error) {
	return s.step(st, s.current(checkInID), func(_ *bbolt.Tx, _ string, t *QueueTicket, now time.Time) (vetnet.VisitAction, error) {
		if t.State != TicketCalled {
			return "", errNotCalled
		}
		t.LastCallAt, t.Calls = now, t.Calls+1
		return vetnet.VisitRecalled, nil
	})
}

// Serve marks a called ticket served.
//
// Errors: ENOTFOUND, ECONFLICT (not called), EFULL, EUNAVAILABLE,
// EINTERNAL.
func (s *Store) Serve(checkInID string, st Step) (QueueTicket, error) {
	return s.step(st, s.current(checkInID), func(_ *bbolt.Tx, _ string, t *QueueTicket, now time.Time) (vetnet.VisitAction, error) {
		if t.State != TicketCalled {
			return "", errNotCalled
		}
		t.State, t.DoneAt = TicketServed, now
		return vetnet.VisitServed, nil
	})
}

// NoShow marks a called ticket as not answered.
//
// Errors: ENOTFOUND, ECONFLICT (not called), EFULL, EUNAVAILABLE,
// EINTERNAL.
func (s *Store) NoShow(checkInID string, st Step) (QueueTicket, error) {
	return s.step(st, s.current(checkInID), func(_ *bbolt.Tx, _ string, t *QueueTicket, now time.Time) (vetnet.VisitAction, error) {
		if t.State != TicketCalled {
			return "", errNotCalled
		}
		t.State, t.DoneAt = TicketNoShow, now
		return vetnet.VisitNoShow, nil
	})
}

// Transfer ends a waiting or called ticket and gives its visit a new
// ticket, with a new number, at the end of service to's queue. It returns
// the new ticket.
//
// Errors: ENOTFOUND, ECONFLICT (already done), EINVALID (unknown or the
// same service), EFULL, EUNAVAILABLE, EINTERNAL.
func (s *Store) Transfer(checkInID string, to vetnet.Service, st Step) (QueueTicket, error) {
	info, ok := to.Info()
	if !ok {
		return QueueTicket{}, vetnet.Errorz(vetnet.EINVALID, "未知的服务项目", "Unknown service.")
	}
	var fresh QueueTicket
	_, err := s.stepTx(st, s.current(checkInID), func(tx *bbolt.Tx, day string, t *QueueTicket, now time.Time, e *vetnet.VisitEvent) error {
		if t.Done() {
			return errTicketDone
		}
		if t.Service == to {
			return errSameService
		}
		if t.State == TicketWaiting {
			if err := leaveWaiting(tx, day, *t); err != nil {
				return err
			}
		}
		no, _, err := issueNumber(tx, day, info)
		if err != nil {
			return err
		}
		t.State, t.DoneAt = TicketTransferred, now
		fresh = QueueTicket{CheckInID: t.CheckInID, Seq: t.Seq, QueueNo: no, Service: to, State: TicketWaiting,
			At: now, CheckedInAt: t.CheckedInAt, From: t.QueueNo, Staff: st.Staff}
		e.Action, e.ToService, e.ToQueueNo = vetnet.VisitTransferred, to, no
		return nil
	}, func(tx *bbolt.Tx, day string) error {
		// After the old ticket is written: the new one becomes current.
		_, err := putNewTicket(tx, day, &fresh)
		return err
	})
	if err != nil {
		return QueueTicket{}, err
	}
	return s.withName(fresh)
}

// current finds the current ticket of a check-in, if it is today's.
func (s *Store) current(checkInID string) func(tx *bbolt.Tx, day string) ([]byte, QueueTicket, error) {
	return func(tx *bbolt.Tx, day string) ([]byte, QueueTicket, error) {
		k := tx.Bucket(bucketTicketCur).Get([]byte(checkInID))
		if k == nil || !bytes.HasPrefix(k, []byte(day+"/")) {
			return nil, QueueTicket{}, errNoTicket
		}
		v := tx.Bucket(bucketTickets).Get(k)
		if v == nil {
			return nil, QueueTicket{}, errNoTicket
		}
		var t QueueTicket
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, QueueTicket{}, internal(err)
		}
		return copyBytes(k), t, nil
	}
}

// step finds a ticket, changes it and records the change as a visit event.
func (s *Store) step(st Step, find func(*bbolt.Tx, string) ([]byte, QueueTicket, error),
	change func(*bbolt.Tx, string, *QueueTicket, time.Time) (vetnet.VisitAction, error)) (QueueTicket, error) {
	t, err := s.stepTx(st, find, func(tx *bbolt.Tx, day string, t *QueueTicket, now time.Time, e *vetnet.VisitEvent) error {
		a, err := change(tx, day, t, now)
		e.Action = a
		return err
	}, nil)
	if err != nil {
		return QueueTicket{}, err
	}
	return s.withName(t)
}

func (s *Store) stepTx(st Step, find func(*bbolt.Tx, string) ([]byte, QueueTicket, error),
	change func(*bbolt.Tx, string, *QueueTicket, time.Time, *vetnet.VisitEvent) error,
	after func(*bbolt.Tx, string) error) (QueueTicket, error) {
	if st.Staff != "" {
		if err := vetnet.ValidateStaffID(st.Staff); err != nil {
			return QueueTicket{}, err
		}
	}
	if err := vetnet.ValidateCounter(st.Counter); err != nil {
		return QueueTicket{}, err
	}
	if err := s.checkSpace(); err != nil {
		return QueueTicket{}, err
	}
	now := s.now().Round(0).UTC()
	day := s.day(now)
	var out QueueTicket
	err := s.update(func(tx *bbolt.Tx) error {
		if s.outboxFull(tx.Bucket(bucketMeta)) {
			return errOutboxFull
		}
		key, t, err := find(tx, day)
		if err != nil {
			return err
		}
		id, err := vetnet.NewCheckInID(now, nil)
		if err != nil {
			return err
		}
		e := vetnet.VisitEvent{ID: id, StationID: s.station, CheckInID: t.CheckInID, Service: t.Service, QueueNo: t.QueueNo,
			Staff: st.Staff, At: now}
		if err := change(tx, day, &t, now, &e); err != nil {
			return err
		}
		if st.Staff != "" {
			t.Staff = st.Staff
		}
		e.Counter = t.Counter
		if err := e.Validate(); err != nil {
			return err
		}
		if err := putTicket(tx, key, t); err != nil {
			return err
		}
		if after != nil {
			if err := after(tx, day); err != nil {
				return err
			}
		}
		out = t
		return putRecord(tx, recordJSON{Kind: KindVisit, Visit: &e}, e.ID, now)
	})
	if err != nil {
		return QueueTicket{}, s.txErr(err)
	}
	return out, nil
}

// withName fills the ticket's masked name from its check-in.
func (s *Store) withName(t QueueTicket) (QueueTicket, error) {
	err := s.view(func(tx *bbolt.Tx) error {
		c, err := s.load(tx.Bucket(bucketCheckIns), seqKey(t.Seq))
		if err == nil {
			t.MaskedName = vetnet.MaskName(c.Visitor.Name)
		}
		return nil // a purged check-in leaves the name empty
	})
	return t, s.txErr(err)
}

// Ticket returns the current ticket of a check-in (of any day still kept:
// today's, or the last day's until the next day's first ticket), with its
// masked name.
//
// Errors: ENOTFOUND, EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Ticket(checkInID string) (QueueTicket, error) {
	var t QueueTicket
	err := s.view(func(tx *bbolt.Tx) error {
		k := tx.Bucket(bucketTicketCur).Get([]byte(checkInID))
		v := tx.Bucket(bucketTickets).Get(k)
		if k == nil || v == nil {
			return vetnet.Errorz(vetnet.ENOTFOUND, "没有这个签到的排队号", "No ticket for this check-in.")
		}
		if err := json.Unmarshal(v, &t); err != nil {
			return internal(err)
		}
		if c, err := s.load(tx.Bucket(bucketCheckIns), seqKey(t.Seq)); err == nil {
			t.MaskedName = vetnet.MaskName(c.Visitor.Name)
		}
		return nil
	})
	return t, s.txErr(err)
}

// Queue returns today's date and every ticket of today in the order they
// were issued, with masked names.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Queue() (day string, tickets []QueueTicket, err error) {
	day = s.Day()
	err = s.view(func(tx *bbolt.Tx) error {
		checkins := tx.Bucket(bucketCheckIns)
		names := map[uint64]string{}
		c := tx.Bucket(bucketTickets).Cursor()
		prefix := []byte(day + "/")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var t QueueTicket
			if err := json.Unmarshal(v, &t); err != nil {
				return internal(err)
			}
			name, ok := names[t.Seq]
			if !ok {
				if ci, err := s.load(checkins, seqKey(t.Seq)); err == nil {
					name = vetnet.MaskName(ci.Visitor.Name)
				}
				names[t.Seq] = name
			}
			t.MaskedName = name
			tickets = append(tickets, t)
		}
		return nil
	})
	return day, tickets, s.txErr(err)
}

// Visit is one of today's check-ins as staff look for it: the check-in
// (personal data: the caller masks it), its current ticket and whether it
// was rated.
type Visit struct {
	CheckIn vetnet.CheckIn
	Ticket  QueueTicket // zero if it has none
	Rated   bool
}

// MaxVisitors bounds what Visitors returns.
const MaxVisitors = 500

// Visitors returns today's check-ins whose visitor's full name contains q
// (any case; Chinese names by substring, e.g. 建国 finds 张建国) or whose
// queue number is q, newest first, at most max (at most MaxVisitors; <= 0
// means MaxVisitors). An empty q matches every one. Names are decrypted
// here and never leave the agent unmasked.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Visitors(q string, max int) ([]Visit, error) {
	if max <= 0 || max > MaxVisitors {
		max = MaxVisitors
	}
	q = strings.ToLower(strings.TrimSpace(q))
	day := s.Day()
	var out []Visit
	err := s.view(func(tx *bbolt.Tx) error {
		checkins, rated := tx.Bucket(bucketCheckIns), tx.Bucket(bucketRated)
		cur, tickets := tx.Bucket(bucketTicketCur), tx.Bucket(bucketTickets)
		c := checkins.Cursor()
		for k, _ := c.Last(); k != nil && len(out) < max; k, _ = c.Prev() {
			ci, err := s.load(checkins, k)
			if err != nil {
				return err
			}
			if d := s.day(ci.At); d != day {
				if d < day {
					break // older check-ins come before it
				}
				continue
			}
			v := Visit{CheckIn: ci, Rated: rated.Get([]byte(ci.ID)) != nil}
			if tk := cur.Get([]byte(ci.ID)); tk != nil {
				if tv := tickets.Get(tk); tv != nil {
					if err := json.Unmarshal(tv, &v.Ticket); err != nil {
						return internal(err)
					}
				}
			}
			if q != "" && !strings.Contains(strings.ToLower(ci.Visitor.Name), q) &&
				!strings.EqualFold(ci.QueueNo, q) && !strings.EqualFold(v.Ticket.QueueNo, q) {
				continue
			}
			v.Ticket.MaskedName = vetnet.MaskName(ci.Visitor.Name)
			out = append(out, v)
		}
		return nil
	})
	return out, s.txErr(err)
}

// OnDuty is a staff member on duty.
type OnDuty struct {
	Staff string
	Since time.Time
}

type dutyJSON struct {
	Since time.Time `json:"since"`
}

// SetDuty signs staff on (on) or off duty. A change is recorded as a duty
// event in the records outbox; signing on someone already on duty (or off
// someone already off) changes nothing and reports changed false.
//
// Errors: EINVALID (staff ID), EFULL (outbox or disk), EUNAVAILABLE,
// EINTERNAL.
func (s *Store) SetDuty(staff string, on bool) (changed bool, err error) {
	if err := vetnet.ValidateStaffID(staff); err != nil {
		return false, err
	}
	if err := s.checkSpace(); err != nil {
		return false, err
	}
	now := s.now().Round(0).UTC()
	err = s.update(func(tx *bbolt.Tx) error {
		changed = false
		duty := tx.Bucket(bucketDuty)
		if (duty.Get([]byte(staff)) != nil) == on {
			return nil
		}
		if s.outboxFull(tx.Bucket(bucketMeta)) {
			return errOutboxFull
		}
		if on {
			b, err := json.Marshal(dutyJSON{Since: now})
			if err != nil {
				return internal(err)
			}
			if err := duty.Put([]byte(staff), b); err != nil {
				return internal(err)
			}
		} else if err := duty.Delete([]byte(staff)); err != nil {
			return internal(err)
		}
		id, err := vetnet.NewCheckInID(now, nil)
		if err != nil {
			return err
		}
		d := vetnet.DutyEvent{ID: id, StationID: s.station, Staff: staff, On: on, At: now}
		if err := d.Validate(); err != nil {
			return err
		}
		changed = true
		return putRecord(tx, recordJSON{Kind: KindDuty, Duty: &d}, d.ID, now)
	})
	if err != nil {
		return false, s.txErr(err)
	}
	return changed, nil
}

// Duty returns who is on duty, longest on duty first.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Duty() ([]OnDuty, error) {
	var out []OnDuty
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDuty).ForEach(func(k, v []byte) error {
			var d dutyJSON
			if err := json.Unmarshal(v, &d); err != nil {
				return internal(err)
			}
			out = append(out, OnDuty{Staff: string(k), Since: d.Since})
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out, s.txErr(err)
}
