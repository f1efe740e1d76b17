declare module 'node-ipc'
