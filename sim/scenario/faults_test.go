package scenario

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"ppprenew/sim"
)

// A scenario can arm every carrier fault and every push provider's fault
// the world has: the accepted names are the world's own.
func TestFaultStepsNameEveryFaultTheWorldHas(t *testing.T) {
	typ := reflect.TypeFor[FaultStep]()
	enum := func(field string) []string {
		f, ok := typ.FieldByName(field)
		if !ok {
			t.Fatalf("FaultStep has no field %s", field)
		}
		return strings.Split(f.Tag.Get("enum"), ",")
	}
	var kinds []string
	for _, k := range sim.FaultKinds() {
		kinds = append(kinds, string(k))
	}
	if got := enum("Carrier"); !slices.Equal(got, kinds) {
		t.Errorf("fault.carrier accepts %v, the world has %v", got, kinds)
	}
	if got := enum("Push"); !slices.Equal(got, sim.PushProviders()) {
		t.Errorf("fault.push accepts %v, the world has %v", got, sim.PushProviders())
	}
}
