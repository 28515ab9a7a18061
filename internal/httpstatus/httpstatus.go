// Package httpstatus records the status code an HTTP handler answered
// with, for request counters, without hiding the writer's other abilities
// (Flush for event streams, Unwrap for http.ResponseController).
package httpstatus

import "net/http"

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
