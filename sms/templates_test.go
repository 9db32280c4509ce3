package sms

import (
	"strings"
	"testing"

	"ppprenew/workflows/engine"
)

func TestShippedTemplatesFitTwoSegments(t *testing.T) {
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTemplates(set, 2); err != nil {
		t.Fatal(err)
	}
}

func TestCheckTemplatesReportsLongMessage(t *testing.T) {
	yaml := string(engine.DefaultSettingsYAML())
	long := strings.Repeat("很長", 100)
	yaml = strings.Replace(yaml, `status: "{{.Bay}}號車位付費至{{.Expiry}}。"`, `status: "`+long+`"`, 1)
	set, err := engine.ParseSettings([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	err = CheckTemplates(set, 2)
	if err == nil || !strings.Contains(err.Error(), "zh-HK.status: 3 UCS-2 segments") {
		t.Fatalf("want a report of zh-HK.status, got %v", err)
	}
}
