/* Holds one object of each kind that attach --watch finds in memory maps and
 * /proc/sysvipc, then blocks in msgrcv() on an empty System V queue.
 * argv[1]: a name for the POSIX region and semaphore ("/ipcviz-...").
 * Prints "msqid shmid" first, so the test can remove what it made. */
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <unistd.h>

struct message {
    long type;
    char text[16];
};

int main(int argc, char **argv)
{
    struct message m;
    int q, seg, fd;
    void *sysv, *posix;
    sem_t *sem;

    if (argc < 2)
        return 2;
    q = msgget(IPC_PRIVATE, 0600);
    seg = shmget(IPC_PRIVATE, 4096, 0600);
    if (q < 0 || seg < 0)
        return 2;
    printf("%d %d\n", q, seg);
    fflush(stdout);
    sysv = shmat(seg, NULL, 0);
    fd = shm_open(argv[1], O_CREAT | O_RDWR, 0600);
    if (sysv == (void *)-1 || fd < 0 || ftruncate(fd, 4096) < 0)
        return 2;
    posix = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    sem = sem_open(argv[1], O_CREAT, 0600, 3);
    if (posix == MAP_FAILED || sem == SEM_FAILED)
        return 2;
    return (int)msgrcv(q, &m, sizeof m.text, 0, 0) < 0; /* CALL:msgrcv */
}
