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

// nextMessage picks what to send: hello after boot, then acks, then records,
// else a poll (only when poll is set). m.mu must be held.
func (m *Meter) nextMessageLocked(poll bool) (devicelink.MeterMessage, bool) {
	if m.faults.ReuploadAll {
		m.faults.ReuploadAll = false
		m.acceptedThrough = 0
		m.logLocked("fault: forgot what the platform accepted, uploading everything again")
	}
	switch {
	case !m.helloSent:
		return devicelink.MeterMessage{
			Type:    devicelink.MsgHello,
			Reason:  devicelink.ReasonBoot,
			Flags:   &devicelink.Flags{BatteryPct: 97, TempC: 24.5, BootCount: 1},
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
	if err == nil && m.faults.DropSends > 0 {
		m.faults.DropSends--
		err = fmt.Errorf("%w: fault: %s message %d lost before the platform", ErrExchange, msg.Type, ctr)
	}
	if err != nil {
		m.failLocked(err)
		m.mu.Unlock()
		return false, err
	}
	m.mu.Unlock()

	body, err := m.post(ctx, env)

	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil && m.faults.DropReplies > 0 {
		m.faults.DropReplies--
		err = fmt.Errorf("%w: fault: reply to %s message %d lost", ErrExchange, msg.Type, ctr)
	}
	var reply devicelink.Reply
	if err == nil {
		reply, _, err = m.codec.OpenReply(body)
		if err != nil {
			err = fmt.Errorf("%w: reply: %w", ErrExchange, err)
		}
	}
	if err != nil {
		m.failLocked(err)
		return false, err
	}
	return m.handleReplyLocked(msg, reply), nil
}

func (m *Meter) failLocked(err error) {
	m.lastError = err.Error()
	m.logLocked("exchange failed: " + err.Error())
}

// handleReplyLocked applies a reply and reports whether there is more to
// send. m.mu must be held.
func (m *Meter) handleReplyLocked(msg devicelink.MeterMessage, reply devicelink.Reply) bool {
	m.exchanges++
	m.lastExchange = m.cfg.Clock()
	m.lastError = ""
	before := m.acceptedThrough
	progress := false
	switch msg.Type {
	case devicelink.MsgHello:
		m.helloSent = true
		progress = true
	case devicelink.MsgAck:
		m.pendingAcks = slices.DeleteFunc(m.pendingAcks, func(p devicelink.AckMessage) bool {
			return slices.ContainsFunc(msg.Acks, func(a devicelink.AckMessage) bool { return a == p })
		})
		progress = true
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
		m.logLocked(fmt.Sprintf("received command %s (%s bay %s until %s)", c.CommandID, c.Type, c.Bay, c.PaidUntil.Format("15:04:05")))
	}
	m.applyCommandsLocked(reply.Commands)
	if len(m.pendingAcks) > 0 {
		return true
	}
	recs, _ := m.pendingRecordsLocked()
	return progress && len(recs) > 0
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
