package sim

// Reset forgets every message, handset, opt-out, fault, call and handset
// script, as a carrier account just opened. Deliveries and calls in progress
// finish against records no longer listed.
func (c *Carrier) Reset() {
	c.mu.Lock()
	c.msgs, c.order = map[string]*Message{}, nil
	c.phones = map[string]*phoneState{}
	c.optedOut = map[optPair]bool{}
	c.faults = map[FaultKind]*Fault{}
	c.accepted = nil
	c.mu.Unlock()
	vs := c.voice()
	vs.mu.Lock()
	vs.calls, vs.order = map[string]*callRecord{}, nil
	vs.scripts = map[string]VoiceScript{}
	vs.mu.Unlock()
}

// Reset forgets every card and charge and the count of charge requests.
func (g *Gateway) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cards = map[string]*Card{}
	g.byKey = map[string]*ChargeRecord{}
	g.charges = nil
	g.received = ChargeRequests{ByKey: map[string]int{}, ByCard: map[string]int{}}
}

// Reset forgets every push, invalidated token, push fault and app.
func (ps *PushSim) Reset() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.pushes = nil
	ps.invalid = map[string]bool{}
	ps.faults = nil
	ps.apps, ps.appList, ps.byToken = map[string]*appState{}, nil, map[string]*appState{}
}
