/* Shared memory of both kinds and a named Unix socket, all made by the program: a System V
   segment (removed at once with IPC_RMID: freed when the program ends), a POSIX region
   (argv[1], e.g. /name) and a listening socket bound to argv[2], where it then waits. */
#include <fcntl.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    char *a = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    strcpy(a, "sysv");
    int fd = shm_open(argv[1], O_CREAT | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 4096) < 0)
        return 1;
    char *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    strcpy(b, "posix");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, argv[2], sizeof addr.sun_path - 1);
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 1) < 0)
        return 1;
    accept(s, NULL, NULL); /* CALL:accept (no client comes) */
    return 0;
}
