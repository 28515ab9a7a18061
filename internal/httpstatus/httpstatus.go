// Package httpstatus records the status code an HTTP handler answered
// with, for request counters, without hiding the writer's other abilities
// (Flush for event streams, Unwrap for http.ResponseController).
package httpstatus

import (
	"net/http"

	"github.com/vetnet/vetnet"
)

// Recorder wraps a ResponseWriter and remembers the first status code.
type Recorder struct {
	http.ResponseWriter
	Code int // 0 until the handler writes; 200 if it wrote a body without a header
}

// WriteHeader records code and passes it on.
func (r *Recorder) WriteHeader(code int) {
	if r.Code == 0 {
		r.Code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Code == 0 {
		r.Code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush passes a flush on when the underlying writer can.
func (r *Recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// FromCode maps a vetnet error code to the HTTP status every server of the
// project answers with: invalid 400, not_found 404, conflict 409, expired
// 410, full 507, unavailable 503, anything else 500.
func FromCode(code string) int {
	switch code {
	case vetnet.EINVALID:
		return http.StatusBadRequest
	case vetnet.ENOTFOUND:
		return http.StatusNotFound
	case vetnet.ECONFLICT:
		return http.StatusConflict
	case vetnet.EEXPIRED:
		return http.StatusGone
	case vetnet.EFULL:
		return http.StatusInsufficientStorage
	case vetnet.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
