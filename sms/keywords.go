package sms

// Twilio's default keyword handling for long codes and toll-free numbers, as documented in
// "Twilio support for opt-out keywords (SMS STOP filtering)"
// (https://help.twilio.com/hc/en-us/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-)
// and in the Advanced Opt-Out guide for Messaging Services
// (https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out):
//
//   - a single-word reply that is an opt-out keyword puts the sender on Twilio's block list for
//     the number it texted; Twilio answers with its own confirmation, still forwards the message
//     to the inbound webhook, and rejects later sends to that recipient with error 21610;
//   - an opt-in keyword removes the block (toll-free numbers honour only START and UNSTOP, which
//     the carrier network handles itself);
//   - a help keyword makes Twilio answer with its help text.
//
// Only single-word messages trigger this handling: "STOP PLEASE" does not. The lists below are
// Twilio's defaults; the Chinese words ParseReply also accepts are this product's own and are
// not acted on by Twilio, so the application must record those opt-outs itself.
//
// The slices are reference data read by ParseReply and IsOptInKeyword when the package is
// initialised; they must not be modified.
var (
	// OptOutKeywords are the words Twilio treats as an opt-out by default (upper case).
	OptOutKeywords = []string{
		"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
	}

	// OptInKeywords are the words Twilio treats as an opt-in by default (upper case). YES is one of
	// them at Twilio, although ParseReply reads YES as a confirmation; see IsOptInKeyword.
	OptInKeywords = []string{"START", "YES", "UNSTOP"}

	// HelpKeywords are the words Twilio answers with its help text by default (upper case).
	HelpKeywords = []string{"HELP", "INFO"}
)
