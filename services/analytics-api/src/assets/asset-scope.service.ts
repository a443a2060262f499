import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { assertSite, type Principal } from '../auth/principal';
import { AssetsRepository, type AssetRow } from './assets.repository';

/** Resolves an asset a request names and enforces the caller's sites on it. */
@Injectable()
export class AssetScope {
  constructor(@Inject(AssetsRepository) private readonly assets: AssetsRepository) {}

  /** The asset, or 404 when unknown, 403 when it is outside the caller's sites (enterprise-level assets need all sites). */
  async resolve(p: Principal, assetId: string): Promise<AssetRow> {
    const asset = await this.assets.get(assetId);
    if (!asset) throw new ApiError('ANALYTICS.NOT_FOUND', `asset ${JSON.stringify(assetId)} does not exist`);
    assertSite(p, asset.site_id, `asset ${assetId}`);
    return asset;
  }
}
