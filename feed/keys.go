package feed

import (
	"strings"
	"time"

	"mavtop/model"
)

// DefaultPrefix is the key prefix every mavtop key starts with. The braces are a
// Redis Cluster hash tag: all keys land in one slot, so one MULTI can touch them all.
const DefaultPrefix = "{mavera}"

// PeriodSettingsField is the settings hash field holding the billing-period
// config (JSON model.PeriodConfig). "#" cannot occur in a workspace id, so it never
// collides with a workspace's field.
const PeriodSettingsField = "#period"

// RetainAfterPeriod is how long a period's hashes are kept after the period ends.
const RetainAfterPeriod = 35 * 24 * time.Hour

// DefaultMaxLen is the approximate number of entries the stream is trimmed to.
const DefaultMaxLen = 1_000_000

// Keys names mavtop's Redis keys under one prefix.
type Keys struct {
	// Prefix starts every key; "" means DefaultPrefix.
	Prefix string
}

func (k Keys) p() string {
	if k.Prefix == "" {
		return DefaultPrefix
	}
	return k.Prefix
}

// Stream is the usage stream: "<prefix>:usage".
func (k Keys) Stream() string { return k.p() + ":usage" }

// Used is the hash workspace → credits used in a period: "<prefix>:used:<period>".
func (k Keys) Used(period string) string { return k.p() + ":used:" + period }

// UsedBy is the hash "ws/project/endpoint" → credits: "<prefix>:used_by:<period>".
func (k Keys) UsedBy(period string) string { return k.p() + ":used_by:" + period }

// Refused is the hash "ws/project/code" → number of 402s: "<prefix>:refused:<period>".
func (k Keys) Refused(period string) string { return k.p() + ":refused:" + period }

// Recharged is the hash workspace → credits added: "<prefix>:recharged:<period>".
func (k Keys) Recharged(period string) string { return k.p() + ":recharged:" + period }

// Settings is the settings hash: "<prefix>:settings".
func (k Keys) Settings() string { return k.p() + ":settings" }

// Acks is the hash a Go publisher counts its acknowledged writes in, one field per
// lane: "<prefix>:acks:<publisher>". It lets a publisher find out, after a lost
// reply, whether its MULTI was applied (see Publisher).
func (k Keys) Acks(publisher string) string { return k.p() + ":acks:" + publisher }

// ExpireAt is when a period's hashes expire: RetainAfterPeriod after it ends.
func ExpireAt(p model.Period) time.Time { return p.End.Add(RetainAfterPeriod) }

// Digest is the hash of per-shard sums of a period's counters, kept by
// producers in the same MULTI as the counters (see DigestShard):
// "<prefix>:digest:<period>". The audit compares it with what was delivered.
func (k Keys) Digest(period string) string { return k.p() + ":digest:" + period }

// part says what key holds for mavtop, for a message naming a key a write
// failed on: "the used counter", "the stream entry", "" for a key it does not
// know.
func (k Keys) part(key string) string {
	p := k.p()
	for _, c := range []struct{ pfx, part string }{
		{p + ":used:", "the used counter"},
		{p + ":used_by:", "the used-by-endpoint counter"},
		{p + ":refused:", "the refusals counter"},
		{p + ":recharged:", "the recharged counter"},
		{p + ":digest:", "the audit digest"},
		{p + ":acks:", "the publisher's exactly-once acks"},
	} {
		if strings.HasPrefix(key, c.pfx) {
			return c.part
		}
	}
	switch key {
	case k.Stream():
		return "the stream entry"
	case k.Settings():
		return "the settings"
	}
	return "a key mavtop does not know"
}
