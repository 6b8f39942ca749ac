// What other modules may import from organizations (eslint enforces it; README "Module map").
export { Organization, planIncludesIntegrations } from './organization.entity';
