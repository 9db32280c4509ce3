package sim

import (
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// twilioCall is Twilio's Call resource JSON, decoded by twilio-go into
// openapi.ApiV2010Call. Null fields are kept as null, as Twilio does.
type twilioCall struct {
	Sid             string            `json:"sid"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	ParentCallSid   *string           `json:"parent_call_sid"`
	AccountSid      string            `json:"account_sid"`
	To              string            `json:"to"`
	ToFormatted     string            `json:"to_formatted"`
	From            string            `json:"from"`
	FromFormatted   string            `json:"from_formatted"`
	PhoneNumberSid  *string           `json:"phone_number_sid"`
	Status          string            `json:"status"`
	StartTime       *string           `json:"start_time"`
	EndTime         *string           `json:"end_time"`
	Duration        *string           `json:"duration"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	Direction       string            `json:"direction"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	GroupSid        *string           `json:"group_sid"`
	CallerName      *string           `json:"caller_name"`
	QueueTime       string            `json:"queue_time"`
	TrunkSid        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

// callURI is the resource URI relative to the API host.
func callURI(account, sid string) string {
	return "/" + twilioAPIVersion + "/Accounts/" + account + "/Calls/" + sid + ".json"
}

// formatted renders a number for display the way Twilio does: national
// format for North American numbers, E.164 otherwise.
func formatted(n string) string {
	pn, err := phonenumbers.Parse(n, "")
	if err != nil || pn.GetCountryCode() != 1 {
		return n
	}
	return phonenumbers.Format(pn, phonenumbers.NATIONAL)
}

// renderCall turns a call into Twilio's JSON.
func renderCall(c Call) twilioCall {
	base := "/" + twilioAPIVersion + "/Accounts/" + c.AccountSid + "/Calls/" + c.Sid
	tc := twilioCall{
		Sid:           c.Sid,
		DateCreated:   c.DateCreated.UTC().Format(twilioDate),
		DateUpdated:   c.DateUpdated.UTC().Format(twilioDate),
		AccountSid:    c.AccountSid,
		To:            c.To,
		ToFormatted:   formatted(c.To),
		From:          c.From,
		FromFormatted: formatted(c.From),
		Status:        c.Status,
		PriceUnit:     "USD",
		Direction:     c.Direction,
		APIVersion:    twilioAPIVersion,
		QueueTime:     "0",
		URI:           callURI(c.AccountSid, c.Sid),
		SubresourceURIs: map[string]string{
			"feedback":                           base + "/Feedback.json",
			"notifications":                      base + "/Notifications.json",
			"recordings":                         base + "/Recordings.json",
			"streams":                            base + "/Streams.json",
			"payments":                           base + "/Payments.json",
			"user_defined_message_subscriptions": base + "/UserDefinedMessageSubscriptions.json",
			"user_defined_messages":              base + "/UserDefinedMessages.json",
			"events":                             base + "/Events.json",
			"siprec":                             base + "/Siprec.json",
			"transcriptions":                     base + "/Transcriptions.json",
		},
	}
	if c.StartTime != nil {
		s := c.StartTime.UTC().Format(twilioDate)
		tc.StartTime = &s
	}
	if c.EndTime != nil {
		s := c.EndTime.UTC().Format(twilioDate)
		tc.EndTime = &s
		d := strconv.Itoa(c.DurationS)
		tc.Duration = &d
	}
	if c.AnsweredBy != "" {
		a := c.AnsweredBy
		tc.AnsweredBy = &a
	}
	return tc
}
