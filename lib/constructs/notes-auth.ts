import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The pool's password rules; `lib/local/pool.ts` mirrors them (a test keeps the two equal). */
export const PASSWORD_POLICY = {
  minLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireDigits: true,
  requireSymbols: true,
  tempPasswordValidity: Duration.days(3),
} as const satisfies cognito.PasswordPolicy;

export interface NotesAuthProps {
  /** Physical-name prefix, e.g. `notes-dev`. */
  readonly namePrefix: string;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
}

/**
 * Who may use the API: a Cognito user pool where the email address is the sign-in name and must
 * be verified, with an explicit strong password policy, optional TOTP MFA (no SMS) and threat
 * protection, plus two app clients:
 * - `webClient` for end users: public (no secret), SRP sign-in and refresh tokens only;
 * - `smokeClient` for the pipeline's smoke test: admin user-password auth (server side, needs IAM)
 *   and refresh only, so its credentials are useless to anyone without `AdminInitiateAuth`.
 */
export class NotesAuth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly webClient: cognito.UserPoolClient;
  readonly smokeClient: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: NotesAuthProps) {
    super(scope, id);
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `${props.namePrefix}-users`,
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      userVerification: { emailStyle: cognito.VerificationEmailStyle.CODE },
      passwordPolicy: PASSWORD_POLICY,
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is optional by product decision: users may enrol a TOTP authenticator (SMS is off). Requiring it would lock out the smoke-test user and raise the sign-up barrier of a personal notes app; threat protection (PLUS plan, full function) covers risky sign-ins instead.',
    });

    this.webClient = this.userPool.addClient('WebClient', {
      userPoolClientName: `${props.namePrefix}-web`,
      generateSecret: false,
      authFlows: { userSrp: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    this.smokeClient = this.userPool.addClient('SmokeClient', {
      userPoolClientName: `${props.namePrefix}-smoke`,
      generateSecret: false,
      authFlows: { adminUserPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.minutes(15),
      accessTokenValidity: Duration.minutes(15),
      refreshTokenValidity: Duration.hours(1),
    });
  }

  /** Lets `grantee` sign users in server-side (`AdminInitiateAuth`) on this pool only. */
  grantAdminInitiateAuth(grantee: iam.IGrantable): iam.Grant {
    return this.userPool.grant(grantee, 'cognito-idp:AdminInitiateAuth');
  }

  /** Lets `grantee` create, set the password of and delete users of this pool only. */
  grantUserProvisioning(grantee: iam.IGrantable): iam.Grant {
    return this.userPool.grant(
      grantee,
      'cognito-idp:AdminCreateUser',
      'cognito-idp:AdminSetUserPassword',
      'cognito-idp:AdminDeleteUser',
    );
  }
}
