package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/auth"
)

// Sign-in and sessions.
//
// A session is a random 256-bit token. Browsers hold it in the cookie
// SessionCookie (HttpOnly, SameSite=Strict, Path=/, Secure on TLS, expiring
// with the session); other clients (scripts, the demo's check mode, tests)
// send it as "Authorization: Bearer <token>". The store keeps only its
// SHA-256.
//
// CSRF: a state-changing request (POST, PUT, PATCH, DELETE) authenticated
// by the cookie must carry the session's CSRF token in the header
// X-CSRF-Token, and its Origin, when the browser sends one, must be this
// host. SameSite=Strict already keeps the cookie off cross-site requests;
// the token covers browsers and proxies that do not. Bearer requests need
// neither: a browser never adds that header by itself.
//
// Sign-in is throttled per account and per client address (5 failures per
// 15 minutes each); every sign-in, failed sign-in and sign-out is audited.

// SessionCookie is the name of the session cookie.
const SessionCookie = "vetnet_session"

// CSRFHeader is the header that carries the CSRF token.
const CSRFHeader = "X-CSRF-Token"

// reqAuth is the signed-in person of a request.
type reqAuth struct {
	cloud.Access
	Session cloud.Session
	Bearer  bool // authenticated by the Authorization header, not the cookie
}

type userView struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	RoleZH      string `json:"role_zh"`
	RoleEN      string `json:"role_en"`
	Station     string `json:"station"`
	StationName string `json:"station_name"`
	Disabled    bool   `json:"disabled"`
	CanWrite    bool   `json:"can_write"`
	CanUnmask   bool   `json:"can_unmask"`
	CanUsers    bool   `json:"can_manage_users"`
	CanAudit    bool   `json:"can_read_audit"`
}

func (s *Server) userViewOf(u cloud.User) userView {
	a := cloud.NewAccess(u, nil)
	name := ""
	for _, st := range s.o.Stations() {
		if st.ID == u.Station {
			name = st.Name
		}
	}
	return userView{Name: u.Name, DisplayName: u.DisplayName, Role: string(u.Role), RoleZH: u.Role.Label("zh"),
		RoleEN: u.Role.Label("en"), Station: u.Station, StationName: name, Disabled: u.Disabled,
		CanWrite: a.CanWrite(), CanUnmask: a.CanUnmask(), CanUsers: a.CanManageUsers(), CanAudit: a.CanReadAudit()}
}

type sessionResponse struct {
	User      userView  `json:"user"`
	CSRF      string    `json:"csrf_token"`
	Token     string    `json:"token,omitempty"` // at sign-in only: for clients that use the Authorization header
	ExpiresAt time.Time `json:"expires_at"`
}

var (
	errSignIn = vetnet.Errorz(vetnet.EINVALID, "用户名或密码错误", "Wrong user name or password.")
	errAuth   = vetnet.Errorz(vetnet.EINVALID, "请先登录", "Please sign in.")
	errCSRF   = vetnet.Errorz(vetnet.EINVALID, "请求缺少有效的安全令牌，请刷新页面后重试", "The request lacks a valid CSRF token; reload the page and try again.")
	errDenied = vetnet.Errorz(vetnet.EINVALID, "无权访问该数据", "You have no access to this data.")
)

// clientAddr is the client's IP address (without the port). Behind a
// proxy it is the proxy's: throttling per address then throttles the
// proxy, which errs on the safe side.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sameOrigin reports whether the request's Origin (or, without one, its
// Referer) names this host. A request with neither passes: non-browser
// clients send none, and browsers send Origin on every cross-site POST.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return u.Host == r.Host
}

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return vetnet.Wrap(vetnet.EINVALID, err, "请求内容不是有效的 JSON", "The request body is not valid JSON for this call.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return vetnet.Errorz(vetnet.EINVALID, "请求内容在 JSON 之后还有数据", "The request body has data after its JSON object.")
	}
	return nil
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, errCSRF, "")
		return
	}
	var req struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err, "")
		return
	}
	now := s.o.Now()
	addr := clientAddr(r)
	name := strings.TrimSpace(req.User)
	if b1, until1 := s.throttleUser.Blocked(strings.ToLower(name), now); b1 || func() bool { b, _ := s.throttleAddr.Blocked(addr, now); return b }() {
		until := until1
		if _, u2 := s.throttleAddr.Blocked(addr, now); u2.After(until) {
			until = u2
		}
		wait := max(1, int(until.Sub(now).Minutes()+0.999))
		s.appendAudit(r.Context(), cloud.AuditEntry{At: now, User: name, Action: cloud.AuditSignInFailed, Detail: "throttled", Addr: addr})
		w.Header().Set("Retry-After", itoa(wait*60))
		writeError(w, http.StatusTooManyRequests, vetnet.Errorz(vetnet.EUNAVAILABLE,
			"登录失败次数过多，请 "+itoa(wait)+" 分钟后再试", "Too many failed sign-ins; try again in "+itoa(wait)+" minutes."), "")
		return
	}
	u, err := s.o.Store.User(r.Context(), name)
	if err != nil && vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		writeError(w, statusOf(err), err, "")
		return
	}
	// The hash is checked even for an unknown user, so that the answer's
	// time does not tell which names exist.
	hash := u.PasswordHash
	if err != nil {
		hash = s.dummyHash
	}
	ok := auth.CheckPassword(hash, req.Password) && err == nil && !u.Disabled
	if !ok {
		s.throttleUser.Fail(strings.ToLower(name), now)
		s.throttleAddr.Fail(addr, now)
		s.appendAudit(r.Context(), cloud.AuditEntry{At: now, User: name, Action: cloud.AuditSignInFailed, Addr: addr})
		writeError(w, http.StatusUnauthorized, errSignIn, "")
		return
	}
	s.throttleUser.Succeed(strings.ToLower(name))
	s.throttleAddr.Succeed(addr)
	token, hashTok, err := auth.NewToken()
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	csrf, _, err := auth.NewToken()
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	se := cloud.Session{TokenHash: hashTok, User: u.Name, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(s.o.SessionTTL), Addr: addr}
	if err := s.o.Store.CreateSession(r.Context(), se); err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	s.appendAudit(r.Context(), cloud.AuditEntry{At: now, User: u.Name, Role: u.Role, Action: cloud.AuditSignIn, Addr: addr})
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, Expires: se.ExpiresAt, MaxAge: int(s.o.SessionTTL.Seconds())})
	writeJSON(w, http.StatusOK, sessionResponse{User: s.userViewOf(u), CSRF: csrf, Token: token, ExpiresAt: se.ExpiresAt.UTC()})
}

func (s *Server) session(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	writeJSON(w, http.StatusOK, sessionResponse{User: s.userViewOf(a.User), CSRF: a.Session.CSRF, ExpiresAt: a.Session.ExpiresAt.UTC()})
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	if err := s.o.Store.DeleteSessions(r.Context(), a.Session.TokenHash, time.Time{}); err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	s.audit(r, a, cloud.AuditSignOut, "", "", "")
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

// authenticate finds the session of a request. ok is false when there is
// none (or it expired, or its person was disabled).
func (s *Server) authenticate(r *http.Request) (*reqAuth, error) {
	var token string
	bearer := false
	if h := r.Header.Get("Authorization"); h != "" {
		t, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, errAuth
		}
		token, bearer = strings.TrimSpace(t), true
	} else if c, err := r.Cookie(SessionCookie); err == nil {
		token = c.Value
	}
	if token == "" || len(token) > 100 {
		return nil, errAuth
	}
	se, err := s.o.Store.Session(r.Context(), auth.TokenHash(token))
	if err != nil {
		if vetnet.ErrorCode(err) == vetnet.ENOTFOUND {
			return nil, errAuth
		}
		return nil, err
	}
	if !s.o.Now().Before(se.ExpiresAt) {
		return nil, errAuth
	}
	u, err := s.o.Store.User(r.Context(), se.User)
	if err != nil {
		if vetnet.ErrorCode(err) == vetnet.ENOTFOUND {
			return nil, errAuth
		}
		return nil, err
	}
	if u.Disabled {
		return nil, errAuth
	}
	return &reqAuth{Access: cloud.NewAccess(u, s.o.Stations()), Session: se, Bearer: bearer}, nil
}

// authed wraps a handler that needs a signed-in person; state-changing
// methods also need the CSRF token (cookie sessions) and, with write,
// the right to change things.
func (s *Server) authed(write bool, fn func(http.ResponseWriter, *http.Request, *reqAuth)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.authenticate(r)
		if err != nil {
			if errors.Is(err, errAuth) {
				writeError(w, http.StatusUnauthorized, err, "")
			} else {
				writeError(w, statusOf(err), err, "")
			}
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !a.Bearer {
			if !sameOrigin(r) || r.Header.Get(CSRFHeader) == "" || r.Header.Get(CSRFHeader) != a.Session.CSRF {
				writeError(w, http.StatusForbidden, errCSRF, "")
				return
			}
		}
		if write && !a.CanWrite() {
			s.deny(w, r, a, "read-only role")
			return
		}
		fn(w, r, a)
	}
}

// deny answers 403 and audits the refusal.
func (s *Server) deny(w http.ResponseWriter, r *http.Request, a *reqAuth, why string) {
	s.audit(r, a, cloud.AuditDenied, r.Method+" "+r.URL.Path, "", why)
	writeError(w, http.StatusForbidden, errDenied, "")
}

// audit appends an entry for the request's person.
func (s *Server) audit(r *http.Request, a *reqAuth, action cloud.AuditAction, target, reason, detail string) error {
	return s.appendAudit(r.Context(), cloud.AuditEntry{At: s.o.Now(), User: a.User.Name, Role: a.User.Role, Action: action,
		Target: target, Reason: reason, Detail: detail, Addr: clientAddr(r)})
}

func (s *Server) appendAudit(ctx context.Context, e cloud.AuditEntry) error {
	if _, err := s.o.Store.AppendAudit(ctx, e); err != nil {
		s.o.Logf("web: audit %s by %s: %v", e.Action, e.User, err)
		return err
	}
	return nil
}
