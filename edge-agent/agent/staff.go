package agent

import (
	"context"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/reader"
)

// Staff sign-in rules.
const (
	// StaffSessionTTL is how long a staff session lasts without use; each
	// check-in typed with it starts the time again.
	StaffSessionTTL = 5 * time.Minute
	// MaxPINFailures wrong PINs in a row lock a staff member's PIN for
	// PINLockout: a PIN has few values, so guessing must be slow.
	MaxPINFailures = 5
	PINLockout     = 5 * time.Minute
	// maxStaffSessions bounds the sessions kept; the oldest goes first.
	maxStaffSessions = 32
)

// staffState is the signed-in staff and the PIN failures. Guarded by
// Agent.mu.
type staffState struct {
	sessions map[string]*staffSession
	fails    map[string]*pinFails
}

type staffSession struct {
	id      string // staff ID; the member is looked up on the current roster at each use
	via     string // badge or pin
	expires time.Time
}

type pinFails struct {
	n     int
	until time.Time // locked until
}

var (
	errPIN        = vetnet.Errorz(vetnet.EINVALID, "工号或PIN码不正确", "The staff ID or the PIN is wrong.")
	errPINLocked  = vetnet.Errorz(vetnet.EFULL, "PIN码错误次数过多，请5分钟后再试或刷工作证", "Too many wrong PINs. Try again in 5 minutes or use your badge.")
	errStaffGone  = vetnet.Errorz(vetnet.EEXPIRED, "工作人员登录已过期，请重新登录", "The staff sign-in has expired; please sign in again.")
	errNeedStaff  = vetnet.Errorz(vetnet.EINVALID, "手工录入身份证号码需由工作人员登录后操作", "Typing an ID number needs a staff member signed in.")
	errBadgeStray = vetnet.Errorz(vetnet.ENOTFOUND, "此工作证未在本站登记，请联系站长", "This badge is not on the station's staff roster. Please ask the station head.")
	// dummyPINHash is checked against when the staff ID is unknown, so
	// that a wrong ID takes as long as a wrong PIN.
	dummyPINHash = "pbkdf2-sha256$100000$ZHVtbXlkdW1teWR1bW15$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

func member(m vetnet.Staff) localapi.StaffMember {
	return localapi.StaffMember{ID: m.ID, Name: m.Name, Role: string(m.Role), HasPIN: m.PINHash != ""}
}

// StaffList returns the station's roster for the kiosk: no PIN hashes, no
// badges.
func (a *Agent) StaffList() localapi.StaffList {
	st := a.currentStation()
	l := localapi.StaffList{Staff: []localapi.StaffMember{}}
	for _, m := range st.Staff {
		l.Staff = append(l.Staff, member(m))
	}
	return l
}

// StaffLogin checks a staff member's PIN and opens a staff session.
//
// Errors: ENOTFOUND (no roster), EINVALID (unknown ID or wrong PIN, one
// message for both), EFULL (locked after MaxPINFailures wrong PINs).
func (a *Agent) StaffLogin(ctx context.Context, req localapi.StaffLoginRequest) (localapi.StaffSession, error) {
	st := a.currentStation()
	if len(st.Staff) == 0 {
		return localapi.StaffSession{}, vetnet.Errorz(vetnet.ENOTFOUND, "本站未配置工作人员名单", "This station has no staff roster.")
	}
	now := a.cfg.Now()
	a.mu.Lock()
	if a.staff.fails == nil {
		a.staff.fails = map[string]*pinFails{}
	}
	f := a.staff.fails[req.StaffID]
	locked := f != nil && now.Before(f.until)
	a.mu.Unlock()
	if locked {
		return localapi.StaffSession{}, errPINLocked
	}
	m, ok := st.StaffByID(req.StaffID)
	hash := m.PINHash
	if !ok || hash == "" {
		hash = dummyPINHash
	}
	if !vetnet.CheckPIN(hash, req.PIN) || !ok || m.PINHash == "" { // the slow part, without the lock
		a.mu.Lock()
		f := a.staff.fails[req.StaffID]
		if f == nil {
			if len(a.staff.fails) > 256 { // IDs typed at random must not grow this for ever
				a.staff.fails = map[string]*pinFails{}
			}
			f = &pinFails{}
			a.staff.fails[req.StaffID] = f
		}
		f.n++
		if f.n >= MaxPINFailures {
			f.n, f.until = 0, now.Add(PINLockout)
		}
		a.mu.Unlock()
		a.cfg.Logf("agent: staff sign-in refused for %s (wrong PIN or unknown ID)", req.StaffID)
		return localapi.StaffSession{}, errPIN
	}
	a.mu.Lock()
	delete(a.staff.fails, req.StaffID)
	a.mu.Unlock()
	return a.openStaffSession(m, "pin", now), nil
}

func (a *Agent) openStaffSession(m vetnet.Staff, via string, now time.Time) localapi.StaffSession {
	token := newToken()
	expires := now.Add(StaffSessionTTL)
	a.mu.Lock()
	if a.staff.sessions == nil {
		a.staff.sessions = map[string]*staffSession{}
	}
	a.pruneStaff(now)
	a.staff.sessions[token] = &staffSession{id: m.ID, via: via, expires: expires}
	a.mu.Unlock()
	a.cfg.Logf("agent: staff %s signed in by %s", m.ID, via)
	return localapi.StaffSession{Session: token, ExpiresAt: expires.UTC(), Staff: member(m), Via: via}
}

// pruneStaff drops expired sessions and, above maxStaffSessions, the one
// expiring first. Called with a.mu held.
func (a *Agent) pruneStaff(now time.Time) {
	for t, s := range a.staff.sessions {
		if !now.Before(s.expires) {
			delete(a.staff.sessions, t)
		}
	}
	for len(a.staff.sessions) >= maxStaffSessions {
		var first string
		for t, s := range a.staff.sessions {
			if first == "" || s.expires.Before(a.staff.sessions[first].expires) {
				first = t
			}
		}
		delete(a.staff.sessions, first)
	}
}

// StaffLogout ends a session; an unknown one is already ended.
func (a *Agent) StaffLogout(session string) error {
	a.mu.Lock()
	s := a.staff.sessions[session]
	delete(a.staff.sessions, session)
	a.mu.Unlock()
	if s != nil {
		a.cfg.Logf("agent: staff %s signed out", s.id)
	}
	return nil
}

// staffForManual returns the staff ID a typed check-in records: the
// member of session, who must still be on the roster. Without a session a
// station with a roster refuses the check-in; one without a roster takes
// it unattributed.
//
// Errors: EINVALID (no session where one is needed), EEXPIRED (the
// session ended or its member left the roster).
func (a *Agent) staffForManual(st vetnet.Station, session string) (string, error) {
	if session == "" {
		if len(st.Staff) > 0 {
			return "", errNeedStaff
		}
		return "", nil
	}
	now := a.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.staff.sessions[session]
	if !ok || !now.Before(s.expires) {
		delete(a.staff.sessions, session)
		return "", errStaffGone
	}
	if _, ok := st.StaffByID(s.id); !ok {
		delete(a.staff.sessions, session)
		return "", errStaffGone
	}
	s.expires = now.Add(StaffSessionTTL)
	return s.id, nil
}

// handleBadge opens a staff session for a badge on the roster and tells
// the kiosk; a badge not on it is a card error.
func (a *Agent) handleBadge(ev reader.Event) {
	uid := vetnet.NormalizeBadgeUID(ev.Badge)
	st := a.currentStation()
	m, ok := st.StaffByBadge(uid)
	a.signalRead(ok)
	if !ok {
		a.cfg.Logf("agent: reader %s: badge not on the roster", ev.Reader)
		a.api.Broadcast(localapi.EventCardError, cardError(ev.Reader, errBadgeStray))
		return
	}
	a.api.Broadcast(localapi.EventStaff, a.openStaffSession(m, "badge", a.cfg.Now()))
}

// lookupToken finds the visitor of a scanned code.
func (a *Agent) lookupToken(token string) (vetnet.Visitor, error) {
	if a.cfg.LookupToken == nil {
		return vetnet.Visitor{}, vetnet.Errorz(vetnet.ENOTFOUND, "暂不能识别此二维码，请刷身份证或请工作人员协助",
			"This code is not recognised here. Please use your ID card or ask staff.")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.cfg.LookupToken(ctx, token)
}
