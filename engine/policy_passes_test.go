package engine

import (
	"math"
	"testing"
	"time"
)

// TestPolicyPassesImpliesCheck runs passes, the shortcut of a simple
// policy, and check on every combination of claims at the boundaries of
// each rule (the time limits one second either side of now plus or minus
// the leeway, saturated sums, each claim present or not, issuers and
// audiences that differ in one byte, in length, or in number) at three
// leeways and at the extremes of time: whenever passes reports a pass,
// check must find nothing wrong, and a valid token must pass.
func TestPolicyPassesImpliesCheck(t *testing.T) {
	const iss, aud = "https://issuer.example", "api://gateway"
	issuers := [][]byte{[]byte(iss), []byte(iss[:len(iss)-1]), []byte(iss + "/"), []byte("https://issuer.examplf"), []byte("Https://issuer.example"), nil}
	audiences := [][][]byte{{[]byte(aud)}, {[]byte("api://gatewaY")}, {[]byte(aud + " ")}, {[]byte(aud), []byte("x")}, {[]byte("x"), []byte(aud)}, {}, nil}
	var passed, tried int
	for _, leeway := range []time.Duration{0, 30 * time.Second, NoLeeway} {
		ip := IssuerPolicy{Audiences: []string{aud}, Leeway: leeway, Keys: noKeys{}}
		p, err := compilePolicy(&ip, 0, nil, true, []string{iss})
		if err != nil {
			t.Fatal(err)
		}
		if !p.simple {
			t.Fatalf("leeway %v: the policy of one issuer and one audience is not simple", leeway)
		}
		for _, now := range []int64{1_800_000_000, math.MaxInt64, math.MinInt64} {
			times := []int64{math.MinInt64, math.MaxInt64, now}
			for _, d := range []int64{-1, 0, 1} {
				times = append(times, sat(sat(now, p.leeway), d), sat(sat(now, -p.leeway), d))
			}
			var tok Token
			c := &tok.Claims
			for present := range claimBits(1 << 6) { // iss, sub, aud, exp, nbf, iat
				for _, exp := range times {
					for _, nbf := range times {
						for _, iat := range times {
							for _, is := range issuers {
								for _, au := range audiences {
									*c = Claims{Issuer: is, Audience: au, ExpiresAt: exp, NotBefore: nbf, IssuedAt: iat, present: present}
									tried++
									if !p.passes(c, now) {
										continue
									}
									passed++
									if err := p.check(&tok, now); err != nil {
										t.Fatalf("leeway %v, now %d: passes, but check says %v: %+v", leeway, now, err, *c)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if passed == 0 || passed == tried {
		t.Fatalf("passes accepted %d of %d combinations", passed, tried)
	}
	ip := IssuerPolicy{Audiences: []string{aud}, Keys: noKeys{}}
	p, _ := compilePolicy(&ip, 0, nil, true, []string{iss})
	now := int64(1_800_000_000)
	valid := Claims{Issuer: []byte(iss), Audience: [][]byte{[]byte(aud)}, ExpiresAt: now + 60, NotBefore: now, IssuedAt: now,
		present: hasIss | hasAud | hasExp | hasNbf | hasIat}
	if !p.passes(&valid, now) {
		t.Fatal("a valid token of the usual shape does not pass: the shortcut never runs")
	}
}

// TestPolicySimple checks that only a policy whose check is exactly what
// passes tests is simple: any other rule, a second issuer or audience, a
// template or no issuer or audience check makes check the judge.
func TestPolicySimple(t *testing.T) {
	base := func() IssuerPolicy {
		return IssuerPolicy{Issuer: "https://a", Audiences: []string{"x"}, Keys: noKeys{}}
	}
	rows := []struct {
		name   string
		edit   func(*IssuerPolicy)
		simple bool
	}{
		{"one issuer, one audience", func(*IssuerPolicy) {}, true},
		{"all audiences of one", func(ip *IssuerPolicy) { ip.AllAudiences = true }, true},
		{"exp optional", func(ip *IssuerPolicy) { ip.ExpOptional = true }, true},
		{"two audiences", func(ip *IssuerPolicy) { ip.Audiences = []string{"x", "y"} }, false},
		{"any audience", func(ip *IssuerPolicy) { ip.Audiences, ip.AnyAudience = nil, true }, false},
		{"any issuer", func(ip *IssuerPolicy) { ip.Issuer, ip.AnyIssuer = "", true }, false},
		{"max age", func(ip *IssuerPolicy) { ip.MaxAge = time.Hour }, false},
		{"typ", func(ip *IssuerPolicy) { ip.Typ = "at+jwt" }, false},
		{"required claim", func(ip *IssuerPolicy) { ip.RequiredClaims = []string{"sub"} }, false},
		{"required scope", func(ip *IssuerPolicy) { ip.RequiredScopes = []string{"read"} }, false},
		{"tenant template", func(ip *IssuerPolicy) { ip.Issuer, ip.AnyTenant = "https://a/"+TenantPlaceholder, true }, false},
	}
	for _, r := range rows {
		ip := base()
		r.edit(&ip)
		p, err := compilePolicy(&ip, 0, nil, false, nil)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if p.simple != r.simple {
			t.Errorf("%s: simple = %v, want %v", r.name, p.simple, r.simple)
		}
	}
	ip := IssuerPolicy{Audiences: []string{"x"}, Keys: noKeys{}}
	if p, _ := compilePolicy(&ip, 0, nil, true, []string{"https://a", "https://b"}); p.simple {
		t.Error("two issuers: simple")
	}
}

// noKeys is a KeyLookup that finds nothing, for policies never used to verify.
type noKeys struct{}

func (noKeys) LookupKey(iss, kid []byte, alg Alg) (*Key, error) { return nil, ErrUnknownKid }
