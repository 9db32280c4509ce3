package main

// faultKind is one way to make the simulated world misbehave.
type faultKind struct {
	Name string `json:"name"`
	// Area is what misbehaves: carrier, push, card, meter or phone.
	Area string `json:"area"`
	Does string `json:"does"`
	// Flags are the flags that apply, Usage how to arm it.
	Flags []string `json:"flags"`
	Usage string   `json:"usage"`

	provider string // push: the provider of the fake service
}

// armedByFault is whether `pppsim fault KIND` arms the kind (the others
// have their own command, in Usage).
func (k faultKind) armedByFault() bool { return k.Area == "carrier" || k.Area == "push" }

// faultKinds is every fault the simulated world has, the one table `fault
// list` prints and `fault KIND` checks. The carrier kinds are sim's
// FaultKinds, the push kinds one per sim.PushProviders (tests check both).
var faultKinds = []faultKind{
	{Name: "messages_5xx", Area: "carrier", Does: "rejects the next N message creates with HTTP 500",
		Flags: []string{"--count"}, Usage: "pppsim fault messages_5xx [--count N]"},
	{Name: "messages_429", Area: "carrier", Does: "rejects the next N message creates with HTTP 429 (error 20429, too many requests)",
		Flags: []string{"--count"}, Usage: "pppsim fault messages_429 [--count N]"},
	{Name: "messages_timeout", Area: "carrier", Does: "takes and delivers the next N messages but holds the answer MS (default: the sim's fault delay), so the sender times out not knowing",
		Flags: []string{"--count", "--delay-ms"}, Usage: "pppsim fault messages_timeout [--count N] [--delay-ms MS]"},
	{Name: "status_duplicate", Area: "carrier", Does: "posts every status callback of the next N messages twice",
		Flags: []string{"--count"}, Usage: "pppsim fault status_duplicate [--count N]"},
	{Name: "status_out_of_order", Area: "carrier", Does: "posts the status callbacks of the next N messages in reverse order, terminal status first",
		Flags: []string{"--count"}, Usage: "pppsim fault status_out_of_order [--count N]"},
	{Name: "queue_delay", Area: "carrier", Does: "keeps the next N messages queued until the simulated clock is MS past their creation; one then older than its validity period fails with 30036",
		Flags: []string{"--count", "--delay-ms"}, Usage: "pppsim fault queue_delay [--count N] [--delay-ms MS]"},

	{Name: "push_fcm", Area: "push", provider: "fcm", Does: "the fake FCM answers the next N sends with HTTP S (429 QUOTA_EXCEEDED, 500 INTERNAL, 503 UNAVAILABLE, 401, 403 SENDER_ID_MISMATCH...)",
		Flags: []string{"--count", "--status"}, Usage: "pppsim fault push_fcm --status S [--count N]"},
	{Name: "push_apns", Area: "push", provider: "apns", Does: "the fake APNs answers the next N pushes with HTTP S (429 TooManyRequests, 500, 503, 403 InvalidProviderToken, 410 Unregistered...)",
		Flags: []string{"--count", "--status"}, Usage: "pppsim fault push_apns --status S [--count N]"},

	{Name: "decline_next", Area: "card", Does: "the gateway declines the card's next N new charges",
		Flags: []string{"--decline-next"}, Usage: "pppsim card set TOKEN --decline-next N"},
	{Name: "unavailable_next", Area: "card", Does: "the gateway answers the card's next N new charges 503 without taking them",
		Flags: []string{"--unavailable-next"}, Usage: "pppsim card set TOKEN --unavailable-next N"},
	{Name: "slow_next", Area: "card", Does: "the gateway takes the card's next charge but answers it MS late",
		Flags: []string{"--slow-next-ms"}, Usage: "pppsim card set TOKEN --slow-next-ms MS"},
	{Name: "records_unavailable_next", Area: "card", Does: "the next N reads of a recorded charge of the card (look-up, or a retry with its key) answer 503: taken, but the gateway cannot say so",
		Flags: []string{"--records-unavailable-next"}, Usage: "pppsim card set TOKEN --records-unavailable-next N"},
	{Name: "expired", Area: "card", Does: "charges to the card fail with expired_card",
		Flags: []string{"--expired"}, Usage: "pppsim card set TOKEN --expired"},
	{Name: "blacklisted", Area: "card", Does: "charges to the card fail with blacklisted at the gateway",
		Flags: []string{"--blacklisted"}, Usage: "pppsim card set TOKEN --blacklisted"},

	{Name: "power_loss", Area: "meter", Does: "the meter loses power at POINT of taking its next renewal (before_journal, after_journal, after_execute, after_ack), reboots and says hello",
		Flags: []string{"--power-loss"}, Usage: "pppsim meter fault METER --power-loss POINT"},
	{Name: "radio_unreachable", Area: "meter", Does: "the meter cannot be reached by radio (meter fault METER --clear restores it)",
		Flags: []string{"--radio-unreachable"}, Usage: "pppsim meter fault METER --radio-unreachable"},

	{Name: "unreachable", Area: "phone", Does: "messages to the phone are sent, then undelivered (30003)",
		Flags: []string{"--behaviour"}, Usage: "pppsim phone set PHONE --behaviour unreachable"},
	{Name: "landline", Area: "phone", Does: "messages to the phone fail: a landline (30006)",
		Flags: []string{"--behaviour"}, Usage: "pppsim phone set PHONE --behaviour landline"},
	{Name: "filtered", Area: "phone", Does: "messages to the phone are sent, then undelivered: filtered by the carrier (30007)",
		Flags: []string{"--behaviour"}, Usage: "pppsim phone set PHONE --behaviour filtered"},
}

// lookupFault finds a kind of the table by name.
func lookupFault(name string) (faultKind, bool) {
	for _, k := range faultKinds {
		if k.Name == name {
			return k, true
		}
	}
	return faultKind{}, false
}

// faultNames are the kinds `pppsim fault KIND` arms, in table order.
func faultNames() []string {
	var out []string
	for _, k := range faultKinds {
		if k.armedByFault() {
			out = append(out, k.Name)
		}
	}
	return out
}
