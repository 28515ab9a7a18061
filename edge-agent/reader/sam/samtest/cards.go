package samtest

import (
	"fmt"
	"math/rand/v2"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader/sam"
	"github.com/vetnet/vetnet/vetnettest"
)

// CardOf returns a resident ID card of v (an 18-character ID number from
// vetnettest), with the gender and birth date its number implies and
// synthetic address, authority and validity.
func CardOf(v vetnet.Visitor) sam.Card {
	id := v.IDNumber
	g := sam.GenderFemale
	if len(id) == 18 && (id[16]-'0')%2 == 1 {
		g = sam.GenderMale
	}
	birth := ""
	if len(id) >= 14 {
		birth = id[6:14]
	}
	return sam.Card{
		Doc: vetnet.DocResident, Name: v.Name, Gender: g, Nation: "01", Birth: birth,
		Address: "江苏省常州市新北区三井街道太湖东路101号", IDNumber: id,
		Authority: "常州市公安局新北分局", ValidFrom: "20150601", ValidTo: sam.NoExpiry,
	}
}

// ResidentCard returns a synthetic resident ID card.
func ResidentCard(r *rand.Rand) sam.Card { return CardOf(vetnettest.Veteran(r)) }

// HMTCard returns a synthetic residence permit of a Hong Kong resident
// (card type J).
func HMTCard(r *rand.Rand) sam.Card {
	v := vetnettest.Veteran(r)
	first17 := "810000" + v.IDNumber[6:17]
	id := first17 + string(vetnet.IDCheckChar(first17))
	c := CardOf(vetnet.Visitor{IDNumber: id, Name: v.Name})
	c.Doc, c.Nation = vetnet.DocHMT, ""
	c.Address = "江苏省常州市新北区龙虎塘街道"
	c.ValidFrom, c.ValidTo = "20230301", "20280301"
	c.PassNumber = fmt.Sprintf("H%08d", r.IntN(100_000_000))
	c.IssueCount = "01"
	return c
}

// ForeignCard returns a synthetic foreign permanent residence card of the
// 2017 edition (card type I).
func ForeignCard(r *rand.Rand) sam.Card {
	return sam.Card{
		Doc: vetnet.DocForeign, NameEN: "SMITH, JOHN", Name: "史密斯", Gender: sam.GenderMale,
		IDNumber: fmt.Sprintf("USA%012d", r.Int64N(1_000_000_000_000)), Nationality: "USA",
		ValidFrom: "20190101", ValidTo: "20290101", Birth: "19700315", Version: "01", Authority: "1500",
	}
}
