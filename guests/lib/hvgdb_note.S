/*
 * The hvgdb boot-protocol note: hvgdb boots an ELF that carries it through
 * its own ELF64 protocol (every vCPU at _start in long mode), even though
 * these guests also carry a Xen PVH note for QEMU (pvh.S), which hvgdb
 * would otherwise use (docs/booting.md, "Which format wins").
 */
	.section .note.hvgdb, "a", @note
	.balign 4
	.long 6			/* namesz: "hvgdb" and its NUL */
	.long 4			/* descsz */
	.long 1			/* type: hvgdb boot protocol */
	.asciz "hvgdb"
	.balign 4
	.long 1			/* protocol version */
	.balign 4

	.section .note.GNU-stack, "", @progbits
