// Package bolt is the station's durable store: every check-in made at the
// station, its outbox of check-ins the hub has not acknowledged yet, the
// records outbox (ratings, visit and duty events), the queue of the day
// (queue.go), staff on duty, returning visitors and the last configuration
// the hub sent. It is one bbolt file in the agent's data directory.
//
// # The model
//
// Commit is the only way a check-in is made. In one write transaction it
// takes the next sequence number (the last one plus one, so numbers have no
// gaps), makes the check-in ID, takes the next queue number of the service
// for the local day, and writes the check-in, its ID index, its outbox entry
// and the visitor's last visit. It returns only after bbolt has committed and
// fsynced the transaction (the store never sets NoSync), so a check-in the
// kiosk reports as done survives a power cut.
//
// An outbox entry leaves only through Ack (the hub holds the check-in) or
// Reject (the hub will never accept it; it is parked, kept and counted).
// Both are idempotent: unknown or already cleared IDs are ignored, so a
// repeated or late ack changes nothing.
//
// # Personal data
//
// Check-in records hold ID numbers and names. They are sealed with
// AES-256-GCM under a key derived from the current data key of the
// device's key ring, a file beside the database (mode 0600, "<db>.key",
// package internal/keyring); each sealed record names its key, so
// RotateKey can re-seal them one batch at a time and retire the old key.
// Returning visitors are found by an HMAC-SHA256 of the ID number under
// the ring's lookup key, so the file holds no plain hash of an ID number
// that could be reversed by trying all birth dates of a district; Purge
// forgets visitors not seen for VisitorRetention. Keeping the key beside
// the database protects a copied database file, not a stolen device; a
// secure element or TPM is the place for the key on hardware that has one.
//
// Losing the key file makes the stored records unreadable, so Open refuses
// to make a new key for a database that already has one, and refuses a
// key file whose keys do not match the checks stored in the database,
// rather than silently starting over.
//
// # Limits and upkeep
//
// Commit refuses (EFULL) when the outbox holds MaxOutbox check-ins or the
// file system has less than MinFree bytes free: the kiosk then says in plain
// words that the station cannot take check-ins, and nothing stored is ever
// dropped to make room. Purge removes check-ins acknowledged more than
// Retention ago. bbolt reuses freed pages but never shrinks its file;
// Compact copies the live data into a new file and renames it over the old
// one when much of the file is free, so a station that once held a long
// backlog gets its disk back. The agent runs both when the station is idle.
//
// # Layout
//
//	meta      station, seq, counters, key checks (one per key ID, and the lookup key's), applied config
//	checkins  seq (8 bytes, big endian) → sealed record
//	ids       check-in ID → seq
//	outbox    seq → the check-in's time (Unix nanoseconds), for the oldest unsent age
//	acked     seq → when the hub acknowledged it (Unix nanoseconds), for Purge
//	rejected  seq → rejection (JSON)
//	queue     "YYYY-MM-DD/service" → count issued that day; "…#waiting" → tickets waiting
//	visitors  HMAC(ID number) → last visit (Unix nanoseconds), forgotten after VisitorRetention
//	records, rids, routbox, racked, rated   the records outbox (ratings, visit and duty events)
//	tickets   "YYYY-MM-DD/" + ticket number → queue ticket (JSON, no personal data)
//	ticketcur check-in ID → key of its current ticket
//	waiting   "YYYY-MM-DD/service/" + ticket number → ticket key, the waiting in order
//	duty      staff ID → on duty since
//
// Big-endian sequence keys make bbolt's byte order the sequence order, so
// the outbox is read oldest first by a cursor.
package bolt
