/* hashwalk: a small program for paging studies, recorded with valgrind's lackey.
 *
 * Inserts 250 pseudo-random keys into a hash table of 128 buckets, one 4 KiB page each
 * (512 KiB of .bss), then looks the same 250 keys up again. Half of the keys fall in 16
 * hot buckets, the rest anywhere: a hot set of 16 pages inside ~90 touched pages.
 * No C library: it runs from _start and ends with the exit system call, so the trace is
 * the program alone (no dynamic loader). */
#define BUCKETS 128
#define SLOTS 1023

static unsigned table[BUCKETS][SLOTS + 1];   /* [0] of each bucket counts its keys */
static unsigned seed = 20260425u;

static unsigned next_key(void) {
    seed = seed * 1103515245u + 12345u;
    return seed >> 7;
}

static unsigned bucket_of(unsigned k) {
    return (k & 256) ? (k & 15) : (k & (BUCKETS - 1));
}

static void insert(unsigned k) {
    unsigned *b = table[bucket_of(k)];
    if (b[0] < SLOTS) b[++b[0]] = k;
}

static int lookup(unsigned k) {
    unsigned *b = table[bucket_of(k)];
    return b[0] > 0 && b[b[0]] == k;   /* is it the bucket's latest key? */
}

void _start(void) {
    int found = 0;
    for (int i = 0; i < 250; i++) insert(next_key());
    seed = 20260425u;
    for (int i = 0; i < 250; i++) found += lookup(next_key());
    __asm__ volatile("mov $60, %%eax\n\tmov %0, %%edi\n\tsyscall" :: "r"(found & 127) : "rax", "rdi");
    for (;;) {}
}
