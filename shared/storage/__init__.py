"""Storage: the Cosmos DB containers (one client per process) and Blob storage with its SAS links."""
