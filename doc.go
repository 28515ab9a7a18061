// Package vetnet is the domain of the veterans' service station network:
// stations and their levels, the services they offer, visitors and their
// check-ins, the five-level satisfaction rating, the rules of resident ID
// numbers and the masking of personal data.
//
// The package imports only the standard library. Programs (the kiosk, the
// edge agent, the hub) share these types; each adapter package (bbolt,
// MQTT, SQLite, HTTP, Fyne) translates them to and from its dependency.
// Types never travel on the wire as they are: package wire has its own
// versioned payloads and converts explicitly.
//
// Errors are *Error values with a code (EINVALID, ENOTFOUND, ...) and
// messages in Chinese and English that are safe to show to people.
package vetnet
