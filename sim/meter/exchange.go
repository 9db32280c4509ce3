package meter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"ppprenew/devicelink"
)

const (
	// uploadBatch caps the records in one upload message.
	uploadBatch = 64
	// maxRounds caps the exchanges of one sync.
	maxRounds = 8
	// keepSent is how many sent envelopes a meter keeps for ReplayOld.
	keepSent = 8
)

// sync exchanges messages until the meter has nothing more to say (at most
// maxRounds exchanges). The first exchange is a poll when there is nothing
// else to send.
func (m *Meter) sync(ctx context.Context) error {
	m.xmu.Lock()
	defer m.xmu.Unlock()
	for i := 0; i < maxRounds; i++ {
		more, err := m.exchange(ctx, i == 0)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// nextMessageLocked picks what to send: a pending hello, then acks, then
// records, else a poll (only when poll is set). m.mu must be held.
func (m *Meter) nextMessageLocked(poll bool) (devicelink.MeterMessage, bool) {
	if m.faults.ReuploadAll {
		m.faults.ReuploadAll = false
		m.acceptedThrough = 0
		m.logLocked("fault: forgot what the platform accepted, uploading everything again")
	}
	switch {
	case m.helloReason != "":
		return devicelink.MeterMessage{
			Type:    devicelink.MsgHello,
			Reason:  m.helloReason,
			Flags:   m.flagsLocked(),
			Applied: m.recentAppliedLocked(),
		}, true
	case len(m.pendingAcks) > 0:
		return devicelink.MeterMessage{Type: devicelink.MsgAck, Acks: slices.Clone(m.pendingAcks)}, true
	}
	if recs, skipped := m.pendingRecordsLocked(); len(recs) > 0 {
		for _, seq := range skipped {
			delete(m.skip, seq) // left out of this upload only
		}
		return devicelink.MeterMessage{Type: devicelink.MsgUpload, Records: recs}, true
	}
	return devicelink.MeterMessage{Type: devicelink.MsgPoll}, poll
}

// flagsLocked is the hello status report. m.mu must be held.
func (m *Meter) flagsLocked() *devicelink.Flags {
	s := m.sensors
	return &devicelink.Flags{
		BatteryPct: s.BatteryPct, Tamper: s.Tamper, Tilt: s.Tilt, TempC: s.TempC, BootCount: m.bootCount,
		RefusedCalls: m.stats.refusedCalls, CoverOpen: s.CoverOpen, Light: s.Light, Vibration: s.Vibration,
		HumidityPct: s.HumidityPct, RateLimitedWakes: m.stats.rateLimited, RejectedReplies: m.stats.rejectedReplies,
	}
}

// pendingRecordsLocked returns the records to upload next: those after the
// platform's accepted_through, minus records a SkipNext fault leaves out of
// their first upload (returned as skipped). m.mu must be held.
func (m *Meter) pendingRecordsLocked() (out []devicelink.TxnRecord, skipped []uint64) {
	if m.uploadError != "" {
		return nil, nil
	}
	for _, r := range m.records {
		if r.Seq <= m.acceptedThrough {
			continue
		}
		if m.skip[r.Seq] {
			skipped = append(skipped, r.Seq)
			continue
		}
		out = append(out, r)
		if len(out) == uploadBatch {
			break
		}
	}
	return out, skipped
}

// exchange sends one message and handles the reply; it reports whether
// there is more to send. m.xmu must be held.
func (m *Meter) exchange(ctx context.Context, poll bool) (bool, error) {
	m.mu.Lock()
	msg, ok := m.nextMessageLocked(poll)
	if !ok {
		m.mu.Unlock()
		return false, nil
	}
	switch msg.Type {
	case devicelink.MsgUpload:
		m.logLocked(fmt.Sprintf("upload seq %s", seqRange(msg.Records)))
	case devicelink.MsgHello:
		m.logLocked(fmt.Sprintf("hello (%s), %d applied ids", msg.Reason, len(msg.Applied)))
	case devicelink.MsgAck:
		for _, a := range msg.Acks {
			m.logLocked(fmt.Sprintf("ack sent: %s %s", a.CommandID, a.Status))
		}
	}
	env, ctr, err := m.codec.SealMessage(msg)
	var extra [][]byte // envelopes sent after env, whose answers are ignored
	if err == nil {
		switch {
		case m.faults.DropSends > 0:
			m.faults.DropSends--
			err = fmt.Errorf("%w: fault: %s message %d lost before the platform", ErrExchange, msg.Type, ctr)
		case m.faults.ReorderSends > 0:
			m.faults.ReorderSends--
			m.stats.reordered++
			m.held = env
			err = fmt.Errorf("%w: fault: %s message %d held back, to arrive after the next one", ErrExchange, msg.Type, ctr)
		}
	}
	if err == nil {
		if m.faults.ReplayOld > 0 && len(m.sent) > 0 {
			m.faults.ReplayOld--
			m.stats.replaysSent++
			m.logLocked("fault: replaying an old envelope")
			extra = append(extra, m.sent[0])
		}
		if m.faults.DuplicateSends > 0 {
			m.faults.DuplicateSends--
			m.stats.duplicatesSent++
			m.logLocked(fmt.Sprintf("fault: %s message %d sent twice", msg.Type, ctr))
			extra = append(extra, env)
		}
		if m.held != nil {
			m.logLocked("fault: held-back envelope delivered late")
			extra = append(extra, m.held)
			m.held = nil
		}
		m.sent = append(m.sent, env)
		if len(m.sent) > keepSent {
			m.sent = m.sent[1:]
		}
	}
	if err != nil {
		m.failLocked(err)
		m.mu.Unlock()
		return false, err
	}
	m.mu.Unlock()

	body, err := m.post(ctx, env)
	for _, e := range extra {
		if _, xerr := m.post(ctx, e); xerr == nil {
			m.log("platform accepted a replayed envelope")
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil && m.faults.DropReplies > 0 {
		m.faults.DropReplies--
		err = fmt.Errorf("%w: fault: reply to %s message %d lost", ErrExchange, msg.Type, ctr)
	}
	if err == nil && msg.Type == devicelink.MsgAck && m.ackLossHitLocked(msg.Acks) {
		m.logLocked("fault: power lost after the ack was sent")
		m.rebootLocked()
		err = errPowerLoss
	}
	if err == nil && m.faults.CorruptReplies > 0 && len(body) > 0 {
		m.faults.CorruptReplies--
		body = bytes.Clone(body)
		body[len(body)-1] ^= 0x01
		m.logLocked("fault: a bit of the reply flipped on the way")
	}
	var reply devicelink.Reply
	if err == nil {
		reply, _, err = m.codec.OpenReply(body)
		if err != nil {
			m.stats.rejectedReplies++
			err = fmt.Errorf("%w: reply refused: %w", ErrExchange, err)
		}
	}
	if err != nil {
		m.failLocked(err)
		return false, err
	}
	more, err := m.handleReplyLocked(msg, reply)
	if err != nil {
		m.failLocked(err)
	}
	return more, err
}

// ackLossHitLocked reports (and clears) a PowerLossAfterAck armed for one of
// the acks. m.mu must be held.
func (m *Meter) ackLossHitLocked(acks []devicelink.AckMessage) bool {
	hit := false
	for _, a := range acks {
		if m.ackLossAfter[a.CommandID] {
			delete(m.ackLossAfter, a.CommandID)
			hit = true
		}
	}
	return hit
}

func (m *Meter) failLocked(err error) {
	m.lastError = err.Error()
	m.logLocked("exchange failed: " + err.Error())
}

// handleReplyLocked applies a reply and reports whether there is more to
// send. m.mu must be held.
func (m *Meter) handleReplyLocked(msg devicelink.MeterMessage, reply devicelink.Reply) (bool, error) {
	m.exchanges++
	m.lastExchange = m.nowLocked()
	m.lastError = ""
	before := m.acceptedThrough
	progress := false
	switch msg.Type {
	case devicelink.MsgHello:
		m.helloReason = ""
		progress = true
	case devicelink.MsgAck:
		m.pendingAcks = slices.DeleteFunc(m.pendingAcks, func(p devicelink.AckMessage) bool {
			return slices.ContainsFunc(msg.Acks, func(a devicelink.AckMessage) bool { return a == p })
		})
		progress = true
	}
	if msg.Type != devicelink.MsgPoll || len(reply.Commands) > 0 {
		m.lastActivity = m.nowLocked()
	}
	if u := reply.Upload; u != nil {
		m.acceptedThrough = u.AcceptedThrough
		if msg.Type == devicelink.MsgUpload {
			if u.ResendFrom > 0 {
				m.resendRequests++
				m.acceptedThrough = min(m.acceptedThrough, u.ResendFrom-1)
				m.logLocked(fmt.Sprintf("platform asks to resend from seq %d", u.ResendFrom))
				progress = true
			}
			if u.Error != "" {
				m.uploadError = fmt.Sprintf("%s at seq %d", u.Error, u.RejectedSeq)
				m.logLocked("upload refused: " + m.uploadError + "; uploads stopped")
			}
			m.logLocked(fmt.Sprintf("platform accepted through seq %d", m.acceptedThrough))
		}
	}
	if m.acceptedThrough > before {
		progress = true
	}
	for _, c := range reply.Commands {
		if c.Type == devicelink.CommandRotateKey {
			m.logLocked(fmt.Sprintf("received command %s (%s epoch %d)", c.CommandID, c.Type, c.KeyEpoch))
			continue
		}
		m.logLocked(fmt.Sprintf("received command %s (%s bay %s until %s)", c.CommandID, c.Type, c.Bay, c.PaidUntil.UTC().Format("15:04:05 UTC")))
	}
	if err := m.applyCommandsLocked(reply.Commands); err != nil {
		return false, err
	}
	if len(m.pendingAcks) > 0 {
		return true, nil
	}
	recs, _ := m.pendingRecordsLocked()
	return progress && len(recs) > 0, nil
}

// post sends an envelope to the exchange endpoint and returns the reply
// body of a 200 answer.
func (m *Meter) post(ctx context.Context, env []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.cfg.ServerURL+devicelink.ExchangePath, bytes.NewReader(env))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExchange, err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := m.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExchange, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: read reply: %w", ErrExchange, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: platform answered %d", ErrExchange, resp.StatusCode)
	}
	return body, nil
}

// seqRange renders the records' sequence numbers: "3", "1-4" or "1,3".
func seqRange(recs []devicelink.TxnRecord) string {
	first, last := recs[0].Seq, recs[len(recs)-1].Seq
	switch {
	case len(recs) == 1:
		return fmt.Sprint(first)
	case last-first+1 == uint64(len(recs)):
		return fmt.Sprintf("%d-%d", first, last)
	}
	parts := make([]string, len(recs))
	for i, r := range recs {
		parts[i] = fmt.Sprint(r.Seq)
	}
	return strings.Join(parts, ",")
}
