package engine

// meterAck handles the meter's answer to the latest renewal command.
func (s *stepper) meterAck(in Input) {
	a := in.Ack
	n := len(s.st.Renewals)
	if a == nil || n == 0 {
		return
	}
	i := -1
	for j := range s.st.Renewals {
		if s.st.Renewals[j].CommandID == a.CommandID {
			i = j
		}
	}
	if i < 0 || (s.st.Renewals[i].MeterAck != "" && s.st.Renewals[i].MeterAck != "timeout") {
		return
	}
	r := &s.st.Renewals[i]
	late := r.MeterAck == "timeout"
	s.changed = true
	r.MeterPaidUntil = a.PaidUntil
	if a.Applied {
		r.MeterAck = "acked"
	} else {
		r.MeterAck = "rejected"
	}
	if late || s.st.Phase != PhaseRenewing || i != n-1 {
		return // the driver was already told; the record is completed
	}
	if a.Applied {
		s.confirmRenewal("confirmed")
	} else {
		s.confirmRenewal("confirmed_central")
		s.alert("meter_rejected", "meter "+s.st.MeterID+" rejected renewal "+r.CommandID+": "+a.Reason)
	}
	s.armNotice()
}

// confirm sends the final confirmation on the driver's channel, plus the app
// when the driver has it.
func (s *stepper) confirmRenewal(template string) {
	ch := s.asyncChannel()
	s.sendOn(ch, template, false, false)
	if s.st.HasApp && ch != ChannelPush {
		s.sendOn(ChannelPush, template, false, false)
	}
}

// meterTimeout confirms on the central record when the meter is silent.
func (s *stepper) meterTimeout() {
	n := len(s.st.Renewals)
	if s.st.Phase != PhaseRenewing || n == 0 {
		return
	}
	r := &s.st.Renewals[n-1]
	r.MeterAck = "timeout"
	s.confirmRenewal("confirmed_central")
	s.alert("meter_unreachable", "meter "+s.st.MeterID+" did not acknowledge renewal "+r.CommandID+" of bay "+s.st.Bay)
	s.armNotice()
}
