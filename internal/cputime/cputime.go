// Package cputime reads the CPU time a thread or the whole process has used,
// for benchmarks that report cost per operation on a shared machine: CPU
// time barely moves when other processes take turns on the cores, where wall
// time can swing tenfold.
package cputime
