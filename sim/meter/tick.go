package meter

import (
	"context"
	"fmt"
	"time"

	"ppprenew/devicelink"
)

// tick runs a meter's due work at its clock's now: a hello after a boot, a
// due connect-back after a wake call, a due scheduled check-in, a poll while
// online or awake, and going back to sleep (bye) after the idle timeout.
// The fleet's loop calls it every PollInterval; tests call Fleet.Tick.
func (m *Meter) tick(ctx context.Context) error {
	m.mu.Lock()
	now := m.nowLocked()
	reason := ""
	switch {
	case m.helloReason != "":
		reason = m.helloReason
	case !m.wakeAt.IsZero() && !now.Before(m.wakeAt):
		m.wakeAt = time.Time{}
		if m.faults.ConnectBackFails > 0 {
			m.faults.ConnectBackFails--
			m.logLocked("fault: connect-back failed, back to sleep")
			m.mu.Unlock()
			return nil
		}
		reason = devicelink.ReasonWake
	case !now.Before(m.nextCheckIn):
		m.nextCheckIn = now.Add(m.checkInInterval())
		reason = devicelink.ReasonScheduled
	}
	if reason != "" {
		m.helloReason = reason
		m.wakeUpLocked()
	}
	online := m.spec.Online
	awake := m.awake
	idle := now.Sub(m.lastActivity) >= m.idleTimeout()
	m.mu.Unlock()

	switch {
	case online || reason != "" || (awake && !idle):
		return m.sync(ctx)
	case awake:
		return m.sleep(ctx)
	}
	return nil
}

// wakeUpLocked opens a session (the meter stays connected until idle).
// m.mu must be held.
func (m *Meter) wakeUpLocked() {
	if !m.awake {
		m.stats.sessions++
	}
	m.awake, m.lastActivity = true, m.nowLocked()
}

// sleep ends an awake meter's session with a bye.
func (m *Meter) sleep(ctx context.Context) error {
	m.xmu.Lock()
	defer m.xmu.Unlock()
	m.mu.Lock()
	env, _, err := m.codec.SealMessage(devicelink.MeterMessage{Type: devicelink.MsgBye})
	m.awake = false
	m.logLocked("idle: bye, back to sleep")
	m.mu.Unlock()
	if err != nil {
		return err
	}
	body, err := m.post(ctx, env)
	if err == nil {
		_, _, err = m.codec.OpenReply(body)
	}
	if err != nil {
		m.log(fmt.Sprintf("bye not confirmed: %v", err))
	}
	return nil
}
