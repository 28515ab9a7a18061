package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		name string
		hash string
		pw   string
		want bool
	}{
		{"right", h, "correct horse battery", true},
		{"wrong", h, "correct horse batterz", false},
		{"empty", h, "", false},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv", "x", false},
		{"garbage", "$argon2id$v=19$m=x$a$b", "x", false},
		{"huge memory", "$argon2id$v=19$m=99999999,t=1,p=1$YWFhYQ$YWFhYQ", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.hash, tt.pw); got != tt.want {
				t.Errorf("CheckPassword = %v", got)
			}
		})
	}
	if err := CheckPasswordPolicy("short"); err == nil {
		t.Error("a short password passes")
	}
}

func TestToken(t *testing.T) {
	tok, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || TokenHash(tok) != hash || len(hash) != 64 {
		t.Fatalf("token %q hash %q", tok, hash)
	}
	tok2, _, _ := NewToken()
	if tok == tok2 {
		t.Fatal("two equal tokens")
	}
	pw, _ := RandomPassword()
	if CheckPasswordPolicy(pw) != nil {
		t.Fatalf("random password %q fails the policy", pw)
	}
}

func TestThrottle(t *testing.T) {
	th := NewThrottle(3, time.Minute)
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if b, _ := th.Blocked("alice", t0); b {
			t.Fatalf("blocked after %d failures", i)
		}
		th.Fail("alice", t0.Add(time.Duration(i)*time.Second))
	}
	b, until := th.Blocked("alice", t0.Add(10*time.Second))
	if !b || !until.Equal(t0.Add(time.Minute)) {
		t.Fatalf("blocked %v until %v", b, until)
	}
	if b, _ := th.Blocked("bob", t0); b {
		t.Fatal("another key is blocked")
	}
	if b, _ := th.Blocked("alice", t0.Add(time.Minute+time.Second)); b {
		t.Fatal("still blocked after the window")
	}
	th.Fail("alice", t0.Add(2*time.Minute))
	th.Succeed("alice")
	if len(th.fails) != 0 {
		t.Fatal("success kept failures")
	}
}
