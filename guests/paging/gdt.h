#ifndef PAGING_GDT_H
#define PAGING_GDT_H

#include <stdint.h>

/* Builds and loads this vCPU's GDT (layout.h's selectors) and its TSS. */
void gdt_load(unsigned vcpu);
/* Address of this vCPU's TSS.RSP0: the stack the CPU switches to on an
 * interrupt or exception from CPL 3. */
uint64_t gdt_tss_rsp0_address(unsigned vcpu);

#endif
