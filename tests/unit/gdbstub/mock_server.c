/*
 * Serves the debug server over the mock target: toy vCPU threads, no VM.
 * Used by the raw-socket bad-input test, the real-gdb smoke test and, later,
 * by benchmarks as the "ceiling" (gdb against a target answering from
 * memory).
 *
 *   mock_server [--listen SPEC] [--vcpus N] [--cpu intel|amd] [--wait]
 *               [--instr-delay-us N] [--ram SIZE] [--elf PATH --elf-at ADDR]
 *               [--loop-at ADDR]
 *
 * The benchmark ("ceiling") options:
 *   --instr-delay-us N  pause between toy instructions (default 1000).
 *   --ram SIZE          also serve flat, zero-filled RAM up to SIZE bytes
 *                       (identity-mapped), e.g. for 16 MiB memory reads.
 *   --elf PATH --elf-at ADDR  copy the ELF's PT_LOAD file bytes into the
 *                       toy memory, the lowest segment at ADDR (the guest
 *                       links at 1 MiB, beyond the toy memory, so gdb loads
 *                       its symbols with `symbol-file -o ADDR-lowest`).
 *   --loop-at ADDR      every toy vCPU starts and loops at ADDR (a 16-byte
 *                       toy loop closed with a jump back), e.g. a hot
 *                       function of the relocated ELF, so breakpoints there
 *                       are hit.
 *
 * Prints "port N" (or "listening SPEC") on stdout once ready. Exits on
 * SIGINT/SIGTERM, or after the debugger's 'k' (reporting W00 first).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "hvgdb/gdbstub.h"
#include "mock_target.h"

/*
 * The mock target plus optional flat RAM above the toy memory. mt comes
 * first: the mock's own ops, given a pointer to this struct, see their
 * struct mock_target.
 */
struct served_target {
	struct mock_target mt;
	uint8_t *ram; /* [MOCK_MEM_SIZE, ram_size) is served from here */
	uint64_t ram_size;
};

static bool in_flat_ram(const struct served_target *st, uint64_t addr,
			size_t len)
{
	return st->ram && addr >= MOCK_MEM_SIZE && addr <= st->ram_size &&
	       len <= st->ram_size - addr;
}

static int st_translate(void *ctx, int vcpu, uint64_t gla, int prot,
			uint64_t *gpa)
{
	struct served_target *st = ctx;
	if (in_flat_ram(st, gla, 1) && vcpu >= 0 &&
	    (unsigned)vcpu < st->mt.nvcpus) {
		*gpa = gla;
		return 0;
	}
	return mock_target_ops.translate(&st->mt, vcpu, gla, prot, gpa);
}

static int st_read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct served_target *st = ctx;
	if (gpa < MOCK_MEM_SIZE && len > MOCK_MEM_SIZE - gpa) {
		size_t low = MOCK_MEM_SIZE - gpa;
		int rc = st_read_phys(ctx, gpa, buf, low);
		return rc ? rc : st_read_phys(ctx, MOCK_MEM_SIZE,
					      (uint8_t *)buf + low, len - low);
	}
	if (in_flat_ram(st, gpa, len)) {
		memcpy(buf, st->ram + gpa, len);
		return 0;
	}
	return mock_target_ops.read_phys(&st->mt, gpa, buf, len);
}

static int st_write_phys(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct served_target *st = ctx;
	if (gpa < MOCK_MEM_SIZE && len > MOCK_MEM_SIZE - gpa) {
		size_t low = MOCK_MEM_SIZE - gpa;
		int rc = st_write_phys(ctx, gpa, buf, low);
		return rc ? rc : st_write_phys(ctx, MOCK_MEM_SIZE,
					       (const uint8_t *)buf + low,
					       len - low);
	}
	if (in_flat_ram(st, gpa, len)) {
		memcpy(st->ram + gpa, buf, len);
		return 0;
	}
	return mock_target_ops.write_phys(&st->mt, gpa, buf, len);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	uint64_t mult = 1;
	if (*end == 'K' || *end == 'k')
		mult = 1ull << 10;
	else if (*end == 'M' || *end == 'm')
		mult = 1ull << 20;
	else if (*end == 'G' || *end == 'g')
		mult = 1ull << 30;
	if (mult != 1)
		end++;
	if (*end || v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Copies the PT_LOAD file bytes of an ELF64 into the toy memory, the
 * lowest segment's physical address landing at base. */
static int load_elf(struct mock_target *mt, const char *path, uint64_t base)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "mock_server: %s: %s\n", path, strerror(errno));
		return -1;
	}
	static uint8_t image[4 << 20];
	size_t size = fread(image, 1, sizeof(image), f);
	fclose(f);
	if (size < 64 || memcmp(image, "\x7f" "ELF", 4) || image[4] != 2) {
		fprintf(stderr, "mock_server: %s: not an ELF64 file\n", path);
		return -1;
	}
	uint64_t phoff = le(image + 32, 8);
	unsigned phentsize = (unsigned)le(image + 54, 2);
	unsigned phnum = (unsigned)le(image + 56, 2);
	if (phentsize < 56 || phoff > size ||
	    (uint64_t)phnum * phentsize > size - phoff) {
		fprintf(stderr, "mock_server: %s: bad program headers\n", path);
		return -1;
	}
	uint64_t lowest = UINT64_MAX;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = image + phoff + (uint64_t)i * phentsize;
		if (le(ph, 4) == 1 && le(ph + 32, 8) && le(ph + 24, 8) < lowest)
			lowest = le(ph + 24, 8);
	}
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = image + phoff + (uint64_t)i * phentsize;
		uint64_t off = le(ph + 8, 8), paddr = le(ph + 24, 8);
		uint64_t filesz = le(ph + 32, 8);
		if (le(ph, 4) != 1 || !filesz)
			continue;
		uint64_t at = paddr - lowest + base;
		if (off > size || filesz > size - off || at > MOCK_MEM_SIZE ||
		    filesz > MOCK_MEM_SIZE - at) {
			fprintf(stderr, "mock_server: %s: segment at 0x%" PRIx64
				" does not fit the toy memory\n", path, paddr);
			return -1;
		}
		memcpy(mt->mem + at, image + off, filesz);
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: mock_server [--listen SPEC] [--vcpus N] "
			"[--cpu intel|amd] [--wait] [--instr-delay-us N] "
			"[--ram SIZE] [--elf PATH --elf-at ADDR] "
			"[--loop-at ADDR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:0";
	unsigned nvcpus = 2;
	enum mock_personality p = MOCK_INTEL;
	bool wait = false;
	uint64_t delay_us = 1000, ram_size = 0, elf_at = 0, loop_at = 0;
	const char *elf = NULL;
	bool have_elf_at = false, have_loop = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen = argv[++i];
		else if (!strcmp(argv[i], "--vcpus") && i + 1 < argc)
			nvcpus = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			p = !strcmp(argv[++i], "amd") ? MOCK_AMD : MOCK_INTEL;
		else if (!strcmp(argv[i], "--wait"))
			wait = true;
		else if (!strcmp(argv[i], "--instr-delay-us") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &delay_us) ||
			    delay_us > 1000000)
				return usage();
		} else if (!strcmp(argv[i], "--ram") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &ram_size) ||
			    ram_size > (4ull << 30))
				return usage();
		} else if (!strcmp(argv[i], "--elf") && i + 1 < argc)
			elf = argv[++i];
		else if (!strcmp(argv[i], "--elf-at") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &elf_at))
				return usage();
			have_elf_at = true;
		} else if (!strcmp(argv[i], "--loop-at") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &loop_at) ||
			    loop_at > MOCK_MEM_SIZE - 16)
				return usage();
			have_loop = true;
		} else
			return usage();
	}
	if (nvcpus < 1 || nvcpus > MOCK_MAX_VCPUS || (elf && !have_elf_at))
		return usage();

	static struct served_target st;
	struct mock_target *mtp = &st.mt;
	mock_target_init(mtp, p, nvcpus);
	mtp->instr_delay_us = (unsigned)delay_us;
	if (elf && load_elf(mtp, elf, elf_at))
		return 1;
	if (have_loop) {
		/* the ELF's own bytes run as toy nops; 0xeb closes the loop */
		mtp->mem[loop_at + 15] = 0xeb;
		for (unsigned v = 0; v < nvcpus; v++) {
			mtp->vcpu[v].loop_start = loop_at;
			mock_set_reg64(mtp, (int)v, GDB_REG_RIP, loop_at);
			/* a zeroed stack and no frame chain: gdb's unwinder
			 * stops at once instead of chasing the toy memory's
			 * fill pattern with memory reads */
			if (ram_size > MOCK_MEM_SIZE + 0x10000) {
				mock_set_reg64(mtp, (int)v, GDB_REG_RSP,
					       MOCK_MEM_SIZE + 0x8000 -
						       v * 0x100);
				mock_set_reg64(mtp, (int)v, GDB_REG_RBP, 0);
			}
		}
	}
	struct gdb_target_ops ops = mock_target_ops;
	if (ram_size > MOCK_MEM_SIZE) {
		st.ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			      0);
		if (st.ram == MAP_FAILED) {
			fprintf(stderr, "mock_server: --ram: %s\n",
				strerror(errno));
			return 1;
		}
		st.ram_size = ram_size;
		ops.translate = st_translate;
		ops.read_phys = st_read_phys;
		ops.write_phys = st_write_phys;
	}

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	struct gdbstub_config cfg = { .listen = listen, .wait = wait,
				      .ops = &ops, .ctx = &st };
	struct gdbstub *stub;
	char err[256];
	int rc = gdbstub_create(&cfg, &stub, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mock_server: %s\n", err);
		return 1;
	}
	if (gdbstub_port(stub))
		printf("port %d\n", gdbstub_port(stub));
	else
		printf("listening %s\n", listen);
	fflush(stdout);
	mtp->stub = stub;
	mock_start_vcpus(mtp);

	int status = 0;
	for (;;) {
		struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		pthread_mutex_lock(&mtp->lock);
		bool killed = mtp->killed;
		pthread_mutex_unlock(&mtp->lock);
		if (killed)
			break;
	}
	/* like the VM's end: the debugger hears W, parked vCPUs leave */
	gdbstub_vm_ended(stub, status, 0);
	pthread_mutex_lock(&mtp->lock);
	mtp->stop_threads = true;
	pthread_mutex_unlock(&mtp->lock);
	mock_stop_vcpus(mtp);
	gdbstub_destroy(stub);
	return 0;
}
