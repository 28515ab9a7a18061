package vetnet

// Rating is the five-level satisfaction rating (好差评) of government
// service halls, from 1 (very dissatisfied) to 5 (very satisfied).
type Rating int

const (
	RatingVeryDissatisfied Rating = 1 // 非常不满意
	RatingDissatisfied     Rating = 2 // 不满意
	RatingFair             Rating = 3 // 基本满意
	RatingSatisfied        Rating = 4 // 满意
	RatingVerySatisfied    Rating = 5 // 非常满意
)

var ratingNames = map[Rating][2]string{
	RatingVerySatisfied:    {"非常满意", "Very satisfied"},
	RatingSatisfied:        {"满意", "Satisfied"},
	RatingFair:             {"基本满意", "Fairly satisfied"},
	RatingDissatisfied:     {"不满意", "Dissatisfied"},
	RatingVeryDissatisfied: {"非常不满意", "Very dissatisfied"},
}

// Valid reports whether r is between 1 and 5.
func (r Rating) Valid() bool { return r >= 1 && r <= 5 }

// Bad reports whether r must be followed up (不满意 or 非常不满意): the
// national rule asks for rectification within 15 working days and a call
// back to the person.
func (r Rating) Bad() bool { return r == RatingDissatisfied || r == RatingVeryDissatisfied }

// Label returns the rating's name in lang ("zh" or "en").
func (r Rating) Label(lang string) string {
	n, ok := ratingNames[r]
	if !ok {
		return "?"
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}
