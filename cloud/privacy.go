package cloud

import "github.com/vetnet/vetnet"

// PersonData is what the hub holds about one person, found by the keyed
// hash of their ID number: their check-ins (in full) and the ratings of
// those visits, oldest first. Check-ins anonymised already are not found.
type PersonData struct {
	CheckIns []vetnet.CheckIn
	Feedback []vetnet.Feedback
}

// Erased counts what ErasePerson removed: check-ins whose ID number and
// name were removed, ratings whose comment was removed.
type Erased struct {
	CheckIns int
	Feedback int
}
