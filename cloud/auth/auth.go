// Package auth holds the hub's sign-in primitives: password hashes
// (argon2id, from golang.org/x/crypto), session tokens and sign-in
// throttling. Who may see and do what is in package cloud (Access); the
// HTTP side (cookies, CSRF) is in cloud/web.
//
// Passwords are stored as PHC strings
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash), the OWASP minimum for
// argon2id: about 20 ms and 19 MiB per check on the hub, which is what
// makes a stolen database slow to crack. The parameters travel with each
// hash, so raising them later leaves old hashes readable.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/vetnet/vetnet"
)

// Argon2id parameters of new hashes.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// CheckPasswordPolicy refuses passwords too short to resist guessing.
// Errors: EINVALID.
func CheckPasswordPolicy(pw string) error {
	if len([]rune(pw)) < MinPasswordLen {
		return vetnet.Errorz(vetnet.EINVALID, fmt.Sprintf("密码至少 %d 个字符", MinPasswordLen),
			fmt.Sprintf("A password needs at least %d characters.", MinPasswordLen))
	}
	return nil
}

// HashPassword returns the PHC string of pw with a new random salt.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", vetnet.Wrap(vetnet.EINTERNAL, err, "无法生成随机数", "Cannot make random numbers.")
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the PHC hash. A malformed hash
// matches nothing.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 64 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewToken returns a random session token (256 bits, URL-safe) and the
// hash under which the store keeps it.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", vetnet.Wrap(vetnet.EINTERNAL, err, "无法生成随机数", "Cannot make random numbers.")
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token), nil
}

// TokenHash is the stored form of a token: hex SHA-256. A token has 256
// random bits, so a fast hash is enough (nothing to guess).
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// RandomPassword returns a password of 16 characters from an alphabet
// without look-alikes, for a first administrator nobody chose one for.
func RandomPassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", vetnet.Wrap(vetnet.EINTERNAL, err, "无法生成随机数", "Cannot make random numbers.")
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// Throttle limits failed sign-ins per key (an account, an address): after
// Max failures within Window, the key is refused until the oldest of
// them leaves the window. A success clears the key. The zero value is
// not usable: see NewThrottle.
type Throttle struct {
	Max    int
	Window time.Duration

	mu    sync.Mutex
	fails map[string][]time.Time
}

// NewThrottle returns a throttle of max failures per window.
func NewThrottle(max int, window time.Duration) *Throttle {
	return &Throttle{Max: max, Window: window, fails: map[string][]time.Time{}}
}

// Blocked reports whether key is refused at now, and until when.
func (t *Throttle) Blocked(key string, now time.Time) (bool, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.prune(key, now)
	if len(fs) >= t.Max {
		return true, fs[0].Add(t.Window)
	}
	return false, time.Time{}
}

// Fail records a failure of key at now.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.prune(key, now)
	t.fails[key] = append(fs, now)
	if len(t.fails) > 100000 { // a flood of made-up names: forget the quiet ones
		for k := range t.fails {
			if len(t.prune(k, now)) == 0 {
				delete(t.fails, k)
			}
		}
	}
}

// Succeed clears key.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}

func (t *Throttle) prune(key string, now time.Time) []time.Time {
	fs := t.fails[key]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-t.Window)) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.fails, key)
	} else {
		t.fails[key] = fs
	}
	return fs
}
