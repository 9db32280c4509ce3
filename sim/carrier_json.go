package sim

import "time"

// twilioAPIVersion is the REST API version the simulator speaks.
const twilioAPIVersion = "2010-04-01"

// twilioDate is Twilio's RFC 2822 date format, always in GMT.
const twilioDate = time.RFC1123Z

// twilioMessage is Twilio's Message resource JSON, decoded by twilio-go into
// openapi.ApiV2010Message. Null fields are kept as null, as Twilio does.
type twilioMessage struct {
	AccountSid          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                string            `json:"from"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	Sid                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

// messageURI is the resource URI relative to the API host.
func messageURI(account, sid string) string {
	return "/" + twilioAPIVersion + "/Accounts/" + account + "/Messages/" + sid + ".json"
}

// render turns a message into Twilio's JSON.
func render(m Message) twilioMessage {
	base := "/" + twilioAPIVersion + "/Accounts/" + m.AccountSid + "/Messages/" + m.Sid
	tm := twilioMessage{
		AccountSid:  m.AccountSid,
		APIVersion:  twilioAPIVersion,
		Body:        m.Body,
		DateCreated: m.DateCreated.UTC().Format(twilioDate),
		DateUpdated: m.DateUpdated.UTC().Format(twilioDate),
		Direction:   m.Direction,
		From:        m.From,
		NumMedia:    "0",
		NumSegments: itoa(m.NumSegments),
		PriceUnit:   "USD",
		Sid:         m.Sid,
		Status:      m.Status,
		SubresourceURIs: map[string]string{
			"media":    base + "/Media.json",
			"feedback": base + "/Feedback.json",
		},
		To:  m.To,
		URI: messageURI(m.AccountSid, m.Sid),
	}
	if m.DateSent != nil {
		s := m.DateSent.UTC().Format(twilioDate)
		tm.DateSent = &s
	}
	if m.ErrorCode != 0 {
		code, msg := m.ErrorCode, errorMessages[m.ErrorCode]
		tm.ErrorCode, tm.ErrorMessage = &code, &msg
	}
	return tm
}
