/* Limits shared by the assembly and C parts of the guest runtime. */
#ifndef GUEST_CONFIG_H
#define GUEST_CONFIG_H

#define GUEST_MAX_CPUS 64
#define GUEST_STACK_SIZE 16384 /* per vCPU; power of two (cpu_self uses it) */
#define GUEST_CMDLINE_MAX 4096

/* Selectors of the runtime's GDT (hvgdb's GDT uses the same 0x08/0x10). */
#define GUEST_CS64 0x08
#define GUEST_DS 0x10
#define GUEST_CS32 0x18

/* Where the PVH path copies its real-mode AP trampoline (below 1 MiB; 0x8000
 * is hvgdb's command-line page, so it stays clear of it). */
#define GUEST_AP_TRAMPOLINE 0x9000

#endif
