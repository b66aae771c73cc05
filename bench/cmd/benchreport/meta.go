package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Keys of the facts benchreport writes at the top of raw.txt, as
// benchmark-format configuration lines ("key: value"), so that the file
// carries how and where it was made and -report-only can rebuild the
// report from it alone. benchstat shows them as the file's configuration.
const (
	metaPrefix    = "benchreport-"
	metaCommand   = metaPrefix + "command"
	metaRound     = metaPrefix + "round"
	metaBenchtime = metaPrefix + "benchtime"
	metaQuick     = metaPrefix + "quick"
	metaDate      = metaPrefix + "date"
	metaCPU       = metaPrefix + "cpu"
	metaCores     = metaPrefix + "cores"
	metaGo        = metaPrefix + "go"
	metaKernel    = metaPrefix + "kernel"
	metaCommit    = metaPrefix + "commit"
	metaLoad      = metaPrefix + "load"
)

// writeMeta writes the run's facts as configuration lines.
func writeMeta(w io.Writer, info reportInfo) error {
	mc := info.machine
	p := &printer{w: w}
	for _, kv := range [][2]string{
		{metaCommand, info.command},
		{metaRound, info.goTest},
		{metaBenchtime, info.benchtime},
		{metaQuick, strconv.FormatBool(info.quick)},
		{metaDate, mc.date.Format(time.RFC3339)},
		{metaCPU, mc.cpu},
		{metaCores, strconv.Itoa(mc.cores)},
		{metaGo, mc.goVer},
		{metaKernel, mc.kernel},
		{metaCommit, mc.commit},
		{metaLoad, mc.load},
	} {
		if kv[1] != "" {
			p.line("%s: %s", kv[0], oneLine(kv[1]))
		}
	}
	return p.err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// infoFromMeta rebuilds the report facts from the configuration lines read
// with the results. It fails for output that benchreport did not write.
func infoFromMeta(m *measurements) (reportInfo, error) {
	get := func(k string) string { return m.meta[k] }
	if get(metaCommand) == "" {
		return reportInfo{}, fmt.Errorf("the results carry no %s line: they were not written by benchreport", metaCommand)
	}
	info := reportInfo{
		command:   get(metaCommand),
		goTest:    get(metaRound),
		benchtime: get(metaBenchtime),
		quick:     get(metaQuick) == "true",
		rounds:    m.rounds(),
		machine: machine{
			cpu:    get(metaCPU),
			goVer:  get(metaGo),
			kernel: get(metaKernel),
			commit: get(metaCommit),
			load:   get(metaLoad),
		},
	}
	info.machine.cores, _ = strconv.Atoi(get(metaCores))
	if d, err := time.Parse(time.RFC3339, get(metaDate)); err == nil {
		info.machine.date = d
	}
	return info, nil
}
