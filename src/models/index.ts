/**
 * The model registry: manifest, models folder, verification, install from a folder, download.
 */
export * from './registry.js';
export { installModels, selectEntries, type FileAction, type InstallReport, type InstallProgress, type InstallOptions, type CommonInstallOptions } from './install.js';
export { fetchModels, downloadFile, downloadUrl, type FetchOptions } from './fetch.js';
