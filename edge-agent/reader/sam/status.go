package sam

import (
	"fmt"

	"github.com/vetnet/vetnet"
)

// Status is SW3, the module's result code.
type Status byte

// The module's result codes (GA 467).
const (
	StatusOK             Status = 0x90 // success
	StatusFound          Status = 0x9F // find card: success
	StatusNoContent      Status = 0x91 // this item has no content on the card
	StatusHostChecksum   Status = 0x10 // the module got a frame with a bad checksum
	StatusHostLength     Status = 0x11 // the module got a frame with a bad length
	StatusCommand        Status = 0x21 // command error
	StatusUnauthorised   Status = 0x23 // unauthorised operation
	StatusUnknown        Status = 0x24 // unrecognised error
	StatusCardAuthModule Status = 0x31 // the card failed to authenticate the module
	StatusModuleAuthCard Status = 0x32 // the module failed to authenticate the card
	StatusVerify         Status = 0x33 // information verification error
	StatusCardType       Status = 0x40 // unrecognised card type
	StatusReadFailed     Status = 0x41 // read card failed
	StatusRandom         Status = 0x47 // get random failed
	StatusSelfTest       Status = 0x60 // module self-test failed
	StatusNotAuthorised  Status = 0x66 // module not authorised
	StatusFindFailed     Status = 0x80 // find card failed: no card (or the card already read)
	StatusSelectFailed   Status = 0x81 // select card failed
)

// Statuses lists every result code the module documents.
var Statuses = []Status{
	StatusOK, StatusFound, StatusNoContent, StatusHostChecksum, StatusHostLength, StatusCommand,
	StatusUnauthorised, StatusUnknown, StatusCardAuthModule, StatusModuleAuthCard, StatusVerify,
	StatusCardType, StatusReadFailed, StatusRandom, StatusSelfTest, StatusNotAuthorised,
	StatusFindFailed, StatusSelectFailed,
}

type statusInfo struct {
	name   string // English, for logs
	code   string // vetnet code
	zh, en string // for people
	fault  bool   // the module itself is failing (health: fault), not the card
}

var statusTable = map[Status]statusInfo{
	StatusOK:    {name: "success"},
	StatusFound: {name: "card found"},
	StatusNoContent: {"no content", vetnet.ENOTFOUND,
		"卡内没有该项信息", "The card holds no such item.", false},
	StatusHostChecksum: {"checksum error in the host frame", vetnet.EUNAVAILABLE,
		"读卡器通信出错，请将身份证重新放好", "The reader received a garbled command. Please place the card again.", false},
	StatusHostLength: {"length error in the host frame", vetnet.EUNAVAILABLE,
		"读卡器通信出错，请将身份证重新放好", "The reader received a garbled command. Please place the card again.", false},
	StatusCommand: {"command error", vetnet.EINTERNAL,
		"读卡器不支持该操作，请联系工作人员", "The reader does not support this command. Please ask staff.", true},
	StatusUnauthorised: {"unauthorised operation", vetnet.EINTERNAL,
		"读卡器拒绝了该操作，请联系工作人员", "The reader refused the operation. Please ask staff.", true},
	StatusUnknown: {"unrecognised error", vetnet.EUNAVAILABLE,
		"读卡器出现未知错误，请重新放卡", "The reader had an unknown error. Please place the card again.", false},
	StatusCardAuthModule: {"the card failed to authenticate the module", vetnet.EINVALID,
		"证件与读卡器互认证失败，请重新放卡或联系工作人员", "The card did not accept the reader. Place it again or ask staff.", false},
	StatusModuleAuthCard: {"the module failed to authenticate the card", vetnet.EINVALID,
		"证件认证失败，可能不是有效的身份证件", "The card failed authentication; it may not be a valid identity card.", false},
	StatusVerify: {"information verification error", vetnet.EINVALID,
		"证件信息校验失败，请联系工作人员", "The card's data failed verification. Please ask staff.", false},
	StatusCardType: {"unrecognised card type", vetnet.EINVALID,
		"无法识别的卡片，请使用居民身份证或居住证", "This card is not recognised. Please use a resident ID card or residence permit.", false},
	StatusReadFailed: {"read card failed", vetnet.EUNAVAILABLE,
		"读卡失败，请将身份证平放在读卡器上，不要移动", "The card could not be read. Lay it flat on the reader and hold it still.", false},
	StatusRandom: {"get random failed", vetnet.EUNAVAILABLE,
		"读卡失败，请将身份证平放在读卡器上，不要移动", "The card could not be read. Lay it flat on the reader and hold it still.", false},
	StatusSelfTest: {"module self-test failed", vetnet.EUNAVAILABLE,
		"读卡模块自检失败，请联系工作人员", "The card reader failed its self-test. Please ask staff.", true},
	StatusNotAuthorised: {"module not authorised", vetnet.EUNAVAILABLE,
		"读卡模块未授权，请联系工作人员", "The card reader module is not authorised. Please ask staff.", true},
	StatusFindFailed: {"no card", vetnet.ENOTFOUND,
		"未检测到身份证", "No card on the reader.", false},
	StatusSelectFailed: {"select card failed", vetnet.EUNAVAILABLE,
		"选卡失败，请将身份证重新放好", "The card could not be selected. Please place it again.", false},
}

func (s Status) info() statusInfo {
	if i, ok := statusTable[s]; ok {
		return i
	}
	return statusInfo{fmt.Sprintf("undocumented result %02X", byte(s)), vetnet.EUNAVAILABLE,
		"读卡器返回了未知状态，请联系工作人员", "The reader returned an unknown result. Please ask staff.", true}
}

// String names the status, e.g. "41 read card failed".
func (s Status) String() string { return fmt.Sprintf("%02X %s", byte(s), s.info().name) }

// OK reports whether s is a success (90 or 9F).
func (s Status) OK() bool { return s == StatusOK || s == StatusFound }

// Err returns nil for a success, else a *StatusError.
func (s Status) Err() error {
	if s.OK() {
		return nil
	}
	return &StatusError{Status: s}
}

// StatusError is a result code other than success. It unwraps to a
// *vetnet.Error whose messages can be shown on the kiosk: ENOTFOUND for
// no card (80) and no content (91), EINVALID for a card that fails
// authentication or is of an unknown type, EUNAVAILABLE for reads to
// repeat and a failing module, EINTERNAL for commands the module refuses.
type StatusError struct {
	Status Status
}

func (e *StatusError) Error() string { return "sam: module result " + e.Status.String() }

func (e *StatusError) Unwrap() error {
	i := e.Status.info()
	return vetnet.Errorz(i.code, i.zh, i.en)
}

// ModuleFault reports whether the status says the module itself is failing
// (self-test, not authorised, refused commands, undocumented results),
// rather than the card or the moment: the reader's health becomes fault.
func (e *StatusError) ModuleFault() bool { return e.Status.info().fault }
