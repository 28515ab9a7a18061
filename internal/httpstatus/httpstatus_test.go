package httpstatus_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vetnet/vetnet/internal/httpstatus"
)

func TestRecorder(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
		want    int
	}{
		{"nothing written", func(http.ResponseWriter) {}, 0},
		{"body only", func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, 200},
		{"header then body", func(w http.ResponseWriter) { w.WriteHeader(404); _, _ = w.Write([]byte("x")) }, 404},
		{"first header wins", func(w http.ResponseWriter) { w.WriteHeader(503); w.WriteHeader(200) }, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			under := httptest.NewRecorder()
			r := &httpstatus.Recorder{ResponseWriter: under}
			tt.handler(r)
			r.Flush()
			if r.Code != tt.want {
				t.Fatalf("Code = %d, want %d", r.Code, tt.want)
			}
			if !under.Flushed {
				t.Fatal("Flush did not reach the underlying writer")
			}
		})
	}
}

func TestFromCode(t *testing.T) {
	for code, want := range map[string]int{
		"invalid": 400, "not_found": 404, "conflict": 409, "expired": 410, "full": 507, "unavailable": 503,
		"internal": 500, "": 500, "something else": 500,
	} {
		if got := httpstatus.FromCode(code); got != want {
			t.Errorf("FromCode(%q) = %d, want %d", code, got, want)
		}
	}
}
