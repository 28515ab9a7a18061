package vetnet

import (
	"errors"
	"fmt"
)

// Error codes. Every error that crosses a package boundary carries one of
// these, so callers can branch on the kind of failure without parsing text,
// and user interfaces can pick a message in the user's language.
const (
	ECONFLICT    = "conflict"    // the action conflicts with existing state
	EINTERNAL    = "internal"    // a fault of ours; details are in the log only
	EINVALID     = "invalid"     // the input is malformed or breaks a rule
	ENOTFOUND    = "not_found"   // the thing asked for does not exist
	EUNAVAILABLE = "unavailable" // a dependency is down; try again later
	EFULL        = "full"        // a limit (disk, outbox, quota) is reached
	EEXPIRED     = "expired"     // the thing asked for existed but timed out
)

// Error is the project's one error type. Message and MessageZH are safe to
// show to people (they never contain personal data, SQL or stack traces);
// Err is the internal cause, for logs only.
type Error struct {
	Code      string // one of the E* codes
	Message   string // English, for people
	MessageZH string // Simplified Chinese, for people; empty means use Message
	Err       error  // internal cause; never shown to people
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and an English message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Errorz returns an *Error with a message in both languages.
func Errorz(code, zh, en string) *Error {
	return &Error{Code: code, Message: en, MessageZH: zh}
}

// Wrap returns an *Error that keeps cause for the log.
func Wrap(code string, cause error, zh, en string) *Error {
	return &Error{Code: code, Message: en, MessageZH: zh, Err: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err that is safe to show to people,
// in lang ("zh" or "en"). Errors that are not *Error never leak their text.
func ErrorMessage(err error, lang string) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if lang == "zh" && e.MessageZH != "" {
			return e.MessageZH
		}
		return e.Message
	}
	if lang == "zh" {
		return "系统内部错误"
	}
	return "Internal error."
}
