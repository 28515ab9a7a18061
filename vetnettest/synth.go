// Package vetnettest makes synthetic people for tests and demos: ID numbers
// with a valid region code, a real birth date and a correct check
// character, and names drawn from common surnames and given names. It never
// produces data of real people on purpose; any match is a coincidence.
package vetnettest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vetnet/vetnet"
)

// Region is the region code of the district in the work plan (常州市新北区).
const Region = "320411"

var surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "欧阳", "诸葛"}

var givenNames = []string{"伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "建国", "建军", "国庆", "卫东", "志强", "海涛", "红梅", "春生", "德胜", "保国", "振华", "立新"}

// IDNumber returns a valid ID number for region (6 digits) and birth date,
// with a random sequence code; odd sequence codes are men, even are women.
func IDNumber(r *rand.Rand, region string, birth time.Time, male bool) string {
	seq := r.IntN(500) * 2
	if male {
		seq++
	}
	first17 := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq)
	return first17 + string(vetnet.IDCheckChar(first17))
}

// Veteran returns a synthetic veteran born between 1940 and 2002 in Region:
// most veterans of the stations are men past fifty.
func Veteran(r *rand.Rand) vetnet.Visitor {
	male := r.IntN(10) < 9
	birth := time.Date(1940+r.IntN(63), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
	birth = birth.AddDate(0, 0, r.IntN(daysIn(birth)))
	name := surnames[r.IntN(len(surnames))] + givenNames[r.IntN(len(givenNames))]
	return vetnet.Visitor{IDNumber: IDNumber(r, Region, birth, male), Name: name, DocType: vetnet.DocResident}
}

func daysIn(t time.Time) int {
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// NewRand returns a randomly seeded source for synthetic people.
func NewRand() *rand.Rand { return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) }
